//! PostgreSQL-only tests (placeholder).
