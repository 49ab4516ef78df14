//! The `reserve.v1` gRPC API: generated code, token and scope checks, wire
//! conversion and error mapping. Each service is a thin layer: authenticate,
//! turn the message into core types, call the store, turn the answer back.

pub mod allocation;
pub mod audit;
pub mod auth;
pub mod catalog;
pub mod compensation;
pub mod context;
pub mod devkey;
pub mod enterprise;
pub mod error;
pub mod events;
pub mod incident;
pub mod lease;
pub mod maintenance;
pub mod network;
pub mod requisition;
pub mod sourcing;
pub mod stock;
pub mod wire;

/// Code generated from `proto/`.
#[allow(clippy::all, missing_docs)]
pub mod pb {
    /// Vendored googleapis types.
    pub mod google {
        /// `google.api`.
        pub mod api {
            tonic::include_proto!("google.api");
        }
        /// `google.type`.
        pub mod r#type {
            tonic::include_proto!("google.r#type");
        }
    }
    /// `reserve.v1`.
    pub mod reserve {
        /// Version 1 of the reserve API.
        pub mod v1 {
            tonic::include_proto!("reserve.v1");
        }
    }
}

/// The encoded descriptor set of every proto file, for server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/reserve_descriptor.bin"));
