//! Enterprise reserves beside the depots: agreement reserves (协议储备,
//! stock a company keeps for the bureau) and capacity reserves (产能储备, a
//! company's commitment to produce), each owned by a depot's tier.

pub mod credit_code;

pub use credit_code::CreditCode;
