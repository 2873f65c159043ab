//! A pfhost plugin in Rust with no crates: it captures the TRACE layer from a JSON Lines
//! conversation (one chat message per line), storing the file as one blob and counting its
//! messages, and restores it as `TARGET/trace/conversation.jsonl`.
//!
//!     cargo build --release --offline            # target/release/libexample_trace.so
//!     cargo test --offline                       # the bindings against pf_plugin.h
//!     pfhost check-plugin target/release/libexample_trace.so --set path=conversation.jsonl
//!
//! Rules at the boundary, all shown below:
//! - Exactly one exported symbol, `pf_plugin_entry_v1` (a cdylib exports only `#[no_mangle]` functions).
//! - No panic crosses into the host (unwinding into C is undefined behaviour): every `extern "C"`
//!   function runs its body under `catch_unwind` and turns a panic into `set_error` + `PF_ERR_INTERNAL`.
//! - Nothing the host gives is freed or kept after the call returns; strings from `config` are copied.
//! - The host's services are thread-safe, but see `abi.rs` on `Send`/`Sync` before using threads.
pub mod abi;

use abi::*;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

static SETTINGS: Static<[PfSetting; 1]> = Static([PfSetting {
    key: c"path".as_ptr(),
    kind: PF_SETTING_PATH,
    required: 1,
    default_value: std::ptr::null(),
    help: c"the conversation, JSON Lines (one chat message per line)".as_ptr(),
}]);

static PLUGIN: Static<PfPlugin> = Static(PfPlugin {
    struct_size: std::mem::size_of::<PfPlugin>() as u32,
    abi_major: PF_ABI_MAJOR,
    abi_minor: PF_ABI_MINOR,
    kind: PF_LAYER_TRACE,
    id: c"org.example.trace.rust".as_ptr(),
    version: c"1.0.0".as_ptr(),
    description: c"Stores a JSON Lines conversation and counts its messages (Rust, no crates)".as_ptr(),
    capture: Some(capture),
    restore: Some(restore),
    setting_size: std::mem::size_of::<PfSetting>() as u32,
    setting_count: 1,
    settings: &SETTINGS.0 as *const PfSetting,
    // Rust code carries its own runtime: it needs nothing of the host's build.
    build_identity: std::ptr::null(),
});

/// The entry point: the one exported symbol.
#[no_mangle]
pub extern "C" fn pf_plugin_entry_v1() -> *const PfPlugin {
    &PLUGIN.0
}

/// A failure to report: a return code and a message naming the file.
struct Failure(i32, String);

/// The host's table and this call's context, as safe calls.
struct Host<'a> {
    table: &'a PfHost,
    ctx: *mut PfCtx,
}

impl Host<'_> {
    fn config(&self, key: &CStr) -> Option<String> {
        let value = unsafe { (self.table.config)(self.ctx, key.as_ptr()) };
        (!value.is_null()).then(|| unsafe { CStr::from_ptr(value) }.to_string_lossy().into_owned())
    }

    fn check(&self, code: i32, what: impl FnOnce() -> String) -> Result<(), Failure> {
        if code == PF_OK { Ok(()) } else { Err(Failure(code, what())) }
    }

    fn set_error(&self, message: &str) {
        let text = CString::new(message.replace('\0', "\\0")).unwrap();
        unsafe { (self.table.set_error)(self.ctx, text.as_ptr()) };
    }
}

/// Runs `body`, turning a `Failure` into `set_error` and its code, and a panic into `PF_ERR_INTERNAL`.
fn boundary(host: *const PfHost, ctx: *mut PfCtx, body: impl FnOnce(&Host) -> Result<(), Failure>) -> i32 {
    if host.is_null() || ctx.is_null() {
        return PF_ERR_INVALID;
    }
    let host = Host { table: unsafe { &*host }, ctx };
    match catch_unwind(AssertUnwindSafe(|| body(&host))) {
        Ok(Ok(())) => PF_OK,
        Ok(Err(Failure(code, message))) => {
            host.set_error(&message);
            code
        }
        Err(panic) => {
            let what = panic.downcast_ref::<&str>().map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_else(|| "a panic".into());
            host.set_error(&format!("the plugin panicked: {what}"));
            PF_ERR_INTERNAL
        }
    }
}

fn digest_text(buffer: &[c_char; PF_DIGEST_STRLEN]) -> String {
    unsafe { CStr::from_ptr(buffer.as_ptr()) }.to_string_lossy().into_owned()
}

unsafe extern "C" fn capture(host: *const PfHost, ctx: *mut PfCtx) -> i32 {
    boundary(host, ctx, |host| {
        if unsafe { (host.table.cancelled)(host.ctx) } != 0 {
            return Err(Failure(PF_ERR_CANCELLED, "cancelled before the capture started".into()));
        }
        // Declared required: the host refuses a snapshot without it, so this is only a safety net.
        let path = host.config(c"path").ok_or_else(|| Failure(PF_ERR_INVALID, "trace.path is not set".into()))?;
        let bytes = std::fs::read(&path).map_err(|error| Failure(PF_ERR_IO, format!("cannot read trace.path {path}: {error}")))?;
        let count = bytes.split(|b| *b == b'\n').filter(|line| !line.iter().all(u8::is_ascii_whitespace)).count();
        let mut digest = [0 as c_char; PF_DIGEST_STRLEN];
        let mut size = 0u64;
        let file = CString::new(path.clone()).map_err(|_| Failure(PF_ERR_INVALID, "trace.path holds a NUL byte".into()))?;
        let code = unsafe { (host.table.put_file)(host.ctx, file.as_ptr(), c"application/x-ndjson".as_ptr(), digest.as_mut_ptr(), &mut size) };
        host.check(code, || format!("cannot store trace.path {path}"))?;
        let digest = digest_text(&digest);
        let layer = format!(
            r#"{{"kind":"trace","blobs":[{{"media_type":"application/x-ndjson","digest":"{digest}","size":{size}}}],"messages":"{digest}","message_count":{count}}}"#
        );
        let code = unsafe { (host.table.set_layer)(host.ctx, layer.as_ptr() as *const c_char, layer.len()) };
        host.check(code, || "the host refused the layer".into())
    })
}

unsafe extern "C" fn restore(host: *const PfHost, ctx: *mut PfCtx, layer: *const c_char, len: usize) -> i32 {
    boundary(host, ctx, |host| {
        if !host_has!(host.table, report) {
            return Err(Failure(PF_ERR_UNSUPPORTED, "this host has no restore services; upgrade pfhost".into()));
        }
        let json = unsafe { std::slice::from_raw_parts(layer as *const u8, len) };
        let json = std::str::from_utf8(json).map_err(|_| Failure(PF_ERR_INVALID, "the layer is not UTF-8".into()))?;
        // The layer is our own; its one blob is "messages". A real plugin would use a JSON parser.
        let start = json.find(r#""messages":""#).ok_or_else(|| Failure(PF_ERR_INVALID, "the layer has no messages".into()))? + 12;
        let digest = CString::new(&json[start..start + 71]).unwrap();
        let (mut input, mut size) = (-1, 0u64);
        let code = unsafe { (host.table.open_blob)(host.ctx, digest.as_ptr(), &mut input, &mut size) };
        host.check(code, || format!("cannot open blob {}", digest.to_string_lossy()))?;
        let mut output = -1;
        let code = unsafe { (host.table.create_file)(host.ctx, c"conversation.jsonl".as_ptr(), 0o644, &mut output) };
        if code != PF_OK {
            unsafe { close(input) };
            return Err(Failure(code, "cannot create trace/conversation.jsonl".into()));
        }
        let copied = copy(input, output, size);
        unsafe {
            close(input);
            close(output);
        }
        copied.map_err(|error| Failure(PF_ERR_IO, format!("writing trace/conversation.jsonl: {error}")))?;
        let code = unsafe { (host.table.set_restored_config)(host.ctx, c"path".as_ptr(), c"conversation.jsonl".as_ptr(), 1) };
        host.check(code, || "set_restored_config path".into())
    })
}

extern "C" {
    fn close(fd: i32) -> i32;
    fn pread(fd: i32, buf: *mut u8, count: usize, offset: i64) -> isize;
    fn write(fd: i32, buf: *const u8, count: usize) -> isize;
}

/// Copies `size` bytes from `input` (at offset 0) to `output`.
fn copy(input: i32, output: i32, size: u64) -> std::io::Result<()> {
    let mut buffer = vec![0u8; 1 << 16];
    let mut offset = 0u64;
    while offset < size {
        let read = unsafe { pread(input, buffer.as_mut_ptr(), buffer.len(), offset as i64) };
        if read <= 0 {
            return Err(if read == 0 { std::io::ErrorKind::UnexpectedEof.into() } else { std::io::Error::last_os_error() });
        }
        let mut done = 0;
        while done < read as usize {
            let written = unsafe { write(output, buffer[done..].as_ptr(), read as usize - done) };
            if written < 0 {
                return Err(std::io::Error::last_os_error());
            }
            done += written as usize;
        }
        offset += read as u64;
    }
    Ok(())
}
