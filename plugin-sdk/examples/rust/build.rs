//! Compiles a small C program against the SDK header and runs it, writing the header's sizes and
//! offsets as Rust constants (`$OUT_DIR/layout.rs`) for the layout test in `src/abi.rs`.
//! Needs a C compiler (`$CC`, else `cc`); `PF_SDK_INCLUDE` names the header's directory
//! (default `../../include`, the SDK this example sits in).
use std::{env, fs, path::PathBuf, process::Command};

const FIELDS: &[(&str, &[&str])] = &[
    ("pf_host", &["struct_size", "abi_major", "abi_minor", "reserved", "config", "put_blob", "put_file", "blob_open",
                  "blob_write", "blob_commit", "blob_abort", "parent_layer", "set_layer", "set_error", "log", "progress",
                  "cancelled", "put_fd", "open_blob", "make_directory", "create_file", "make_symlink", "set_attributes",
                  "set_restored_config", "report", "put_fd_range"]),
    ("pf_plugin", &["struct_size", "abi_major", "abi_minor", "kind", "id", "version", "description", "capture", "restore",
                    "setting_size", "setting_count", "settings", "build_identity"]),
    ("pf_setting", &["key", "type", "required", "default_value", "help"]),
];

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").unwrap());
    let include = env::var("PF_SDK_INCLUDE").unwrap_or_else(|_| "../../include".into());
    println!("cargo:rerun-if-env-changed=PF_SDK_INCLUDE");
    println!("cargo:rerun-if-changed={include}/pf_plugin.h");
    let mut c = String::from("#include <stdio.h>\n#include <stddef.h>\n#include \"pf_plugin.h\"\nint main(void) {\n");
    for (name, fields) in FIELDS {
        let upper = name.to_uppercase();
        c += &format!("    printf(\"pub const {upper}_SIZE: usize = %zu;\\n\", sizeof({name}));\n");
        for field in *fields {
            c += &format!("    printf(\"pub const {upper}_{}: usize = %zu;\\n\", offsetof({name}, {field}));\n", field.to_uppercase());
        }
    }
    c += "    printf(\"pub const PF_SETTING_SIZE_1_1: usize = %zu;\\n\", PF_SETTING_SIZE_1_1);\n    return 0;\n}\n";
    let source = out.join("layout.c");
    let program = out.join("layout");
    fs::write(&source, c).unwrap();
    let compiler = env::var("CC").unwrap_or_else(|_| "cc".into());
    let status = Command::new(&compiler).arg("-I").arg(&include).arg("-o").arg(&program).arg(&source).status()
        .unwrap_or_else(|error| panic!("cannot run {compiler} for the layout test: {error}"));
    assert!(status.success(), "{compiler} could not compile the layout program against {include}/pf_plugin.h");
    let output = Command::new(&program).output().unwrap();
    assert!(output.status.success());
    fs::write(out.join("layout.rs"), output.stdout).unwrap();
}
