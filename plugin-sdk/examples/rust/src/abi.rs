//! `#[repr(C)]` bindings of `plugin-sdk/include/pf_plugin.h` (ABI 1.1), written by hand: no crates.
//! `cargo test` checks every size and offset against the header itself (see `build.rs`).
//!
//! Thread safety: the host's services are `[thread-safe]` (any thread may call them until `capture` or
//! `restore` returns), but `*const PfHost` and `*mut PfCtx` are raw pointers, so Rust treats them as
//! neither `Send` nor `Sync`. To use them from threads you start, wrap them in a type you declare
//! `Send`, and join those threads before `capture` returns: the pointers are invalid afterwards.
//! A `PfBlobWriter` must not be used by two threads at once.
#![allow(non_camel_case_types, dead_code)]

use std::ffi::{c_char, c_int, c_void};

pub const PF_ABI_MAJOR: u32 = 1;
pub const PF_ABI_MINOR: u32 = 1;
pub const PF_DIGEST_STRLEN: usize = 72;

pub const PF_LAYER_MODEL: u32 = 1;
pub const PF_LAYER_CACHE: u32 = 2;
pub const PF_LAYER_WORLD: u32 = 3;
pub const PF_LAYER_EFFECTS: u32 = 4;
pub const PF_LAYER_TRACE: u32 = 5;

pub const PF_OK: i32 = 0;
pub const PF_ERR_INVALID: i32 = -1;
pub const PF_ERR_IO: i32 = -2;
pub const PF_ERR_CANCELLED: i32 = -3;
pub const PF_ERR_UNSUPPORTED: i32 = -4;
pub const PF_ERR_INTERNAL: i32 = -5;

pub const PF_LOG_DEBUG: i32 = 0;
pub const PF_LOG_INFO: i32 = 1;
pub const PF_LOG_WARN: i32 = 2;
pub const PF_LOG_ERROR: i32 = 3;

pub const PF_SETTING_STRING: u32 = 1;
pub const PF_SETTING_BOOL: u32 = 2;
pub const PF_SETTING_INT: u32 = 3;
pub const PF_SETTING_PATH: u32 = 4;
pub const PF_SETTING_LIST: u32 = 5;

/// Opaque per-call context.
#[repr(C)]
pub struct PfCtx {
    _private: [u8; 0],
}

/// Opaque streaming blob writer.
#[repr(C)]
pub struct PfBlobWriter {
    _private: [u8; 0],
}

/// `pf_host`: read a field only when `struct_size` covers it (a 1.0 host's table ends at `cancelled`).
#[repr(C)]
pub struct PfHost {
    pub struct_size: u32,
    pub abi_major: u32,
    pub abi_minor: u32,
    pub reserved: u32,
    pub config: unsafe extern "C" fn(*mut PfCtx, *const c_char) -> *const c_char,
    pub put_blob: unsafe extern "C" fn(*mut PfCtx, *const c_char, *const c_void, usize, *mut c_char) -> i32,
    pub put_file: unsafe extern "C" fn(*mut PfCtx, *const c_char, *const c_char, *mut c_char, *mut u64) -> i32,
    pub blob_open: unsafe extern "C" fn(*mut PfCtx, *const c_char, *mut *mut PfBlobWriter) -> i32,
    pub blob_write: unsafe extern "C" fn(*mut PfBlobWriter, *const c_void, usize) -> i32,
    pub blob_commit: unsafe extern "C" fn(*mut PfBlobWriter, *mut c_char) -> i32,
    pub blob_abort: unsafe extern "C" fn(*mut PfBlobWriter),
    pub parent_layer: unsafe extern "C" fn(*mut PfCtx, *mut usize) -> *const c_char,
    pub set_layer: unsafe extern "C" fn(*mut PfCtx, *const c_char, usize) -> i32,
    pub set_error: unsafe extern "C" fn(*mut PfCtx, *const c_char),
    pub log: unsafe extern "C" fn(*mut PfCtx, i32, *const c_char),
    pub progress: unsafe extern "C" fn(*mut PfCtx, u64, u64),
    pub cancelled: unsafe extern "C" fn(*mut PfCtx) -> i32,
    // [1.1]
    pub put_fd: unsafe extern "C" fn(*mut PfCtx, c_int, u64, *const c_char, *mut c_char, *mut u64, *mut u32) -> i32,
    pub open_blob: unsafe extern "C" fn(*mut PfCtx, *const c_char, *mut c_int, *mut u64) -> i32,
    pub make_directory: unsafe extern "C" fn(*mut PfCtx, *const c_char, u32) -> i32,
    pub create_file: unsafe extern "C" fn(*mut PfCtx, *const c_char, u32, *mut c_int) -> i32,
    pub make_symlink: unsafe extern "C" fn(*mut PfCtx, *const c_char, *const c_char) -> i32,
    pub set_attributes: unsafe extern "C" fn(*mut PfCtx, *const c_char, u32, i64) -> i32,
    pub set_restored_config: unsafe extern "C" fn(*mut PfCtx, *const c_char, *const c_char, i32) -> i32,
    pub report: unsafe extern "C" fn(*mut PfCtx, *const c_char, *const c_char),
    pub put_fd_range: unsafe extern "C" fn(*mut PfCtx, c_int, u64, u64, *const c_char, *mut c_char, *mut u64, *mut u32) -> i32,
}

pub type CaptureFn = unsafe extern "C" fn(*const PfHost, *mut PfCtx) -> i32;
pub type RestoreFn = unsafe extern "C" fn(*const PfHost, *mut PfCtx, *const c_char, usize) -> i32;

/// `pf_setting` [1.1].
#[repr(C)]
pub struct PfSetting {
    pub key: *const c_char,
    pub kind: u32, // `type` in C
    pub required: u32,
    pub default_value: *const c_char,
    pub help: *const c_char,
}

/// `pf_plugin`: in static storage, never changed.
#[repr(C)]
pub struct PfPlugin {
    pub struct_size: u32,
    pub abi_major: u32,
    pub abi_minor: u32,
    pub kind: u32,
    pub id: *const c_char,
    pub version: *const c_char,
    pub description: *const c_char,
    pub capture: Option<CaptureFn>,
    pub restore: Option<RestoreFn>,
    // [1.1]
    pub setting_size: u32,
    pub setting_count: u32,
    pub settings: *const PfSetting,
    pub build_identity: *const c_char,
}

/// A `PfPlugin` or settings table that can live in a `static`: it holds only pointers to static data
/// and functions, never changed, so sharing it between threads is sound.
#[repr(transparent)]
pub struct Static<T>(pub T);
unsafe impl<T> Sync for Static<T> {}

/// The byte just past `field` of `PfHost`: the host's table has the field when `struct_size` reaches it.
#[macro_export]
macro_rules! host_has {
    ($host:expr, $field:ident) => {
        ($host).struct_size as usize >= std::mem::offset_of!($crate::abi::PfHost, $field) + std::mem::size_of::<usize>()
    };
}

#[cfg(test)]
mod layout {
    use super::*;
    use std::mem::{offset_of, size_of};
    include!(concat!(env!("OUT_DIR"), "/layout.rs"));

    #[test]
    fn pf_host_matches_the_header() {
        assert_eq!(size_of::<PfHost>(), PF_HOST_SIZE);
        assert_eq!(offset_of!(PfHost, config), PF_HOST_CONFIG);
        assert_eq!(offset_of!(PfHost, cancelled), PF_HOST_CANCELLED);
        assert_eq!(offset_of!(PfHost, put_fd), PF_HOST_PUT_FD);
        assert_eq!(offset_of!(PfHost, open_blob), PF_HOST_OPEN_BLOB);
        assert_eq!(offset_of!(PfHost, set_restored_config), PF_HOST_SET_RESTORED_CONFIG);
        assert_eq!(offset_of!(PfHost, report), PF_HOST_REPORT);
        assert_eq!(offset_of!(PfHost, put_fd_range), PF_HOST_PUT_FD_RANGE);
        assert_eq!(offset_of!(PfHost, reserved), PF_HOST_RESERVED);
        assert_eq!(offset_of!(PfHost, put_blob), PF_HOST_PUT_BLOB);
        assert_eq!(offset_of!(PfHost, set_layer), PF_HOST_SET_LAYER);
        assert_eq!(offset_of!(PfHost, make_symlink), PF_HOST_MAKE_SYMLINK);
    }

    #[test]
    fn pf_plugin_matches_the_header() {
        assert_eq!(size_of::<PfPlugin>(), PF_PLUGIN_SIZE);
        assert_eq!(offset_of!(PfPlugin, kind), PF_PLUGIN_KIND);
        assert_eq!(offset_of!(PfPlugin, id), PF_PLUGIN_ID);
        assert_eq!(offset_of!(PfPlugin, capture), PF_PLUGIN_CAPTURE);
        assert_eq!(offset_of!(PfPlugin, restore), PF_PLUGIN_RESTORE);
        assert_eq!(offset_of!(PfPlugin, setting_size), PF_PLUGIN_SETTING_SIZE);
        assert_eq!(offset_of!(PfPlugin, setting_count), PF_PLUGIN_SETTING_COUNT);
        assert_eq!(offset_of!(PfPlugin, settings), PF_PLUGIN_SETTINGS);
        assert_eq!(offset_of!(PfPlugin, build_identity), PF_PLUGIN_BUILD_IDENTITY);
    }

    #[test]
    fn pf_setting_matches_the_header() {
        assert_eq!(size_of::<PfSetting>(), PF_SETTING_SIZE);
        assert_eq!(size_of::<PfSetting>(), PF_SETTING_SIZE_1_1);
        assert_eq!(offset_of!(PfSetting, key), PF_SETTING_KEY);
        assert_eq!(offset_of!(PfSetting, kind), PF_SETTING_TYPE);
        assert_eq!(offset_of!(PfSetting, required), PF_SETTING_REQUIRED);
        assert_eq!(offset_of!(PfSetting, default_value), PF_SETTING_DEFAULT_VALUE);
        assert_eq!(offset_of!(PfSetting, help), PF_SETTING_HELP);
    }
}
