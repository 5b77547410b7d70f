//! The connection file: where the frontend expects our five sockets, and the
//! key that signs every message.

use anyhow::{bail, Context};
use serde::Deserialize;
use std::path::Path;

/// The only signature scheme Jupyter frontends use in practice, and the only
/// one we accept: refusing anything else beats silently mis-signing.
pub const SIGNATURE_SCHEME: &str = "hmac-sha256";

#[derive(Debug, Clone, Deserialize)]
pub struct ConnectionInfo {
    #[serde(default = "default_transport")]
    pub transport: String,
    pub ip: String,
    pub shell_port: u16,
    pub iopub_port: u16,
    pub stdin_port: u16,
    pub control_port: u16,
    pub hb_port: u16,
    #[serde(default)]
    pub key: String,
    #[serde(default = "default_scheme")]
    pub signature_scheme: String,
}

fn default_transport() -> String {
    "tcp".into()
}

fn default_scheme() -> String {
    SIGNATURE_SCHEME.into()
}

impl ConnectionInfo {
    pub fn from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read connection file {}", path.display()))?;
        Self::from_json(&text).with_context(|| format!("bad connection file {}", path.display()))
    }

    pub fn from_json(text: &str) -> anyhow::Result<Self> {
        Self::from_json_with(text, zmq::has("ipc") == Some(true))
    }

    /// [`Self::from_json`] for a ZeroMQ that has the `ipc` transport or not.
    fn from_json_with(text: &str, ipc_available: bool) -> anyhow::Result<Self> {
        let info: ConnectionInfo =
            serde_json::from_str(text).context("not a Jupyter connection file")?;
        if info.signature_scheme != SIGNATURE_SCHEME {
            bail!(
                "signature_scheme {:?} is not supported; this kernel signs with {:?} \
                 (set \"signature_scheme\": \"{}\" in the connection file)",
                info.signature_scheme,
                SIGNATURE_SCHEME,
                SIGNATURE_SCHEME
            );
        }
        if info.transport != "tcp" && info.transport != "ipc" {
            bail!(
                "transport {:?} is not supported; use \"tcp\" or \"ipc\"",
                info.transport
            );
        }
        if info.transport == "ipc" && !ipc_available {
            bail!(
                "transport \"ipc\" (Unix domain sockets) is not available in this build of \
                 sled-kernel (Windows builds have only tcp); use \"transport\": \"tcp\" \
                 (the default: jupyter_client uses it unless told `--transport ipc`)"
            );
        }
        Ok(info)
    }

    /// The zmq endpoint for one port, spelled the way jupyter_client does:
    /// `tcp://IP:PORT`, or `ipc://IP-PORT` where `ip` is a path prefix.
    pub fn endpoint(&self, port: u16) -> String {
        if self.transport == "ipc" {
            format!("ipc://{}-{}", self.ip, port)
        } else if self.ip.contains(':') {
            // An IPv6 address must be bracketed in a zmq tcp endpoint.
            format!("tcp://[{}]:{}", self.ip.trim_matches(['[', ']']), port)
        } else {
            format!("tcp://{}:{}", self.ip, port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"shell_port": 1, "iopub_port": 2, "stdin_port": 3,
        "control_port": 4, "hb_port": 5, "ip": "127.0.0.1", "key": "k",
        "transport": "tcp", "signature_scheme": "hmac-sha256", "kernel_name": "sled"}"#;

    #[test]
    fn reads_a_jupyter_client_file() {
        let info = ConnectionInfo::from_json(SAMPLE).unwrap();
        assert_eq!(info.endpoint(info.shell_port), "tcp://127.0.0.1:1");
        assert_eq!(info.key, "k");
    }

    #[test]
    fn ipc_endpoints_use_the_ip_as_a_path() {
        let text = SAMPLE
            .replace("\"tcp\"", "\"ipc\"")
            .replace("127.0.0.1", "/tmp/kernel-x");
        let info = ConnectionInfo::from_json_with(&text, true).unwrap();
        assert_eq!(info.endpoint(5), "ipc:///tmp/kernel-x-5");
    }

    #[test]
    fn ipv6_is_bracketed() {
        let info = ConnectionInfo::from_json(&SAMPLE.replace("127.0.0.1", "::1")).unwrap();
        assert_eq!(info.endpoint(9), "tcp://[::1]:9");
    }

    #[test]
    fn refuses_other_signature_schemes() {
        let err = ConnectionInfo::from_json(&SAMPLE.replace("hmac-sha256", "hmac-md5"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("hmac-md5"), "{err}");
    }

    #[test]
    fn ipc_without_ipc_says_to_use_tcp() {
        let text = SAMPLE.replace("\"tcp\"", "\"ipc\"");
        let err = ConnectionInfo::from_json_with(&text, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"ipc\""), "{err}");
        assert!(err.contains("\"transport\": \"tcp\""), "{err}");
        assert!(ConnectionInfo::from_json_with(SAMPLE, false).is_ok());
        // This build's ZeroMQ decides: Linux and macOS builds have ipc,
        // Windows builds do not.
        assert_eq!(
            ConnectionInfo::from_json(&text).is_ok(),
            zmq::has("ipc") == Some(true)
        );
    }

    /// The error names the file, so whoever wrote it knows which to fix.
    #[test]
    fn a_bad_connection_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kernel-1.json");
        std::fs::write(&path, SAMPLE.replace("\"tcp\"", "\"udp\"")).unwrap();
        let err = format!("{:#}", ConnectionInfo::from_file(&path).unwrap_err());
        assert!(err.contains(&path.display().to_string()), "{err}");
        assert!(err.contains("\"udp\""), "{err}");
    }

    #[test]
    fn refuses_unknown_transports() {
        assert!(ConnectionInfo::from_json(&SAMPLE.replace("\"tcp\"", "\"udp\"")).is_err());
    }
}
