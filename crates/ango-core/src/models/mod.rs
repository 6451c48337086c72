//! Request models: filters, options, enums (being written).
