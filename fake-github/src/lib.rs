//! A fake GitHub for tests (being written).
