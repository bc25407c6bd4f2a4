//! Command-line interface (stub).
