//! pgp (being written).
