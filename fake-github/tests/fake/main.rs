//! fake-github's tests, as one test binary (`cargo test -p fake-github --test fake`): the server
//! through a real HTTPS client, the GraphQL endpoint, and scenario parsing; the helpers they
//! share are in [`support`].

mod support;

mod forges;
mod graphql;
mod scenario;
mod server;
