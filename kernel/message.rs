//! Jupyter messages: the header, the envelope, and the content of every
//! request we read and reply we send. Each message type lives here, once.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// The protocol version we implement fully, and stamp on every header.
pub const PROTOCOL_VERSION: &str = "5.5";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Header {
    pub msg_id: String,
    pub msg_type: String,
    #[serde(default)]
    pub session: String,
    #[serde(default)]
    pub username: String,
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub version: String,
    /// Fields a newer frontend adds (e.g. `subshell_id`): kept, so that the
    /// parent_header we echo back is exactly what was sent.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One message, as received or about to be sent.
#[derive(Debug, Clone)]
pub struct Message {
    /// zmq routing identities (ROUTER sockets) or the topic (IOPub).
    pub identities: Vec<Vec<u8>>,
    pub header: Header,
    pub parent_header: Value,
    pub metadata: Map<String, Value>,
    pub content: Value,
    pub buffers: Vec<Vec<u8>>,
}

impl Message {
    pub fn msg_type(&self) -> &str {
        &self.header.msg_type
    }

    /// The content as a typed request; a missing or wrongly typed field is an error.
    pub fn parse<T: serde::de::DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_value(self.content.clone())
            .map_err(|e| format!("bad {} content: {e}", self.header.msg_type))
    }
}

/// Our side of the conversation: the kernel's session id and username, used
/// on every header we write.
#[derive(Debug, Clone)]
pub struct KernelSession {
    pub id: String,
    pub username: String,
}

impl KernelSession {
    pub fn new(username: &str) -> Self {
        KernelSession {
            id: uuid::Uuid::new_v4().to_string(),
            username: username.to_string(),
        }
    }

    pub fn header(&self, msg_type: &str) -> Header {
        Header {
            msg_id: uuid::Uuid::new_v4().to_string(),
            msg_type: msg_type.to_string(),
            session: self.id.clone(),
            username: self.username.clone(),
            // ISO 8601 with microseconds and an explicit UTC offset.
            date: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            version: PROTOCOL_VERSION.to_string(),
            extra: Map::new(),
        }
    }

    /// A reply on the socket the request came from: same identities, the
    /// request's header as parent.
    pub fn reply(&self, parent: &Message, msg_type: &str, content: Value) -> Message {
        Message {
            identities: parent.identities.clone(),
            header: self.header(msg_type),
            parent_header: header_value(&parent.header),
            metadata: Map::new(),
            content,
            buffers: Vec::new(),
        }
    }

    /// A broadcast on IOPub caused by `parent` (or by nothing, for `None`).
    pub fn broadcast(&self, parent: Option<&Message>, msg_type: &str, content: Value) -> Message {
        Message {
            identities: vec![format!("kernel.{}.{}", self.id, msg_type).into_bytes()],
            header: self.header(msg_type),
            parent_header: parent.map_or_else(|| json!({}), |p| header_value(&p.header)),
            metadata: Map::new(),
            content,
            buffers: Vec::new(),
        }
    }

    /// A request as a frontend would send it (used by tests and the bench client).
    pub fn request(&self, msg_type: &str, content: Value) -> Message {
        Message {
            identities: Vec::new(),
            header: self.header(msg_type),
            parent_header: json!({}),
            metadata: Map::new(),
            content,
            buffers: Vec::new(),
        }
    }
}

fn header_value(header: &Header) -> Value {
    serde_json::to_value(header).unwrap_or_else(|_| json!({}))
}

fn yes() -> bool {
    true
}

// ---- Requests -------------------------------------------------------------

#[derive(Debug, Clone, Deserialize)]
pub struct ExecuteRequest {
    pub code: String,
    #[serde(default)]
    pub silent: bool,
    #[serde(default = "yes")]
    pub store_history: bool,
    #[serde(default)]
    pub user_expressions: Map<String, Value>,
    #[serde(default)]
    pub allow_stdin: bool,
    #[serde(default = "yes")]
    pub stop_on_error: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CompleteRequest {
    pub code: String,
    pub cursor_pos: usize,
}

#[derive(Debug, Clone, Deserialize)]
pub struct InspectRequest {
    pub code: String,
    pub cursor_pos: usize,
    #[serde(default)]
    pub detail_level: u8,
}

#[derive(Debug, Clone, Deserialize)]
pub struct IsCompleteRequest {
    pub code: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct HistoryRequest {
    #[serde(default)]
    pub output: bool,
    #[serde(default)]
    pub raw: bool,
    pub hist_access_type: String,
    #[serde(default)]
    pub session: i64,
    #[serde(default)]
    pub start: i64,
    #[serde(default)]
    pub stop: Option<i64>,
    #[serde(default)]
    pub n: Option<usize>,
    #[serde(default)]
    pub pattern: Option<String>,
    #[serde(default)]
    pub unique: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ShutdownRequest {
    #[serde(default)]
    pub restart: bool,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CommOpen {
    pub comm_id: String,
    #[serde(default)]
    pub target_name: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CommInfoRequest {
    #[serde(default)]
    pub target_name: Option<String>,
}

// ---- Replies and broadcasts -------------------------------------------------

/// `{"status": "error", ename, evalue, traceback}`: the shape shared by the
/// `error` broadcast and every failed reply.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorContent {
    pub ename: String,
    pub evalue: String,
    pub traceback: Vec<String>,
}

impl ErrorContent {
    pub fn new(ename: &str, evalue: impl Into<String>) -> Self {
        let evalue = evalue.into();
        ErrorContent {
            ename: ename.to_string(),
            traceback: vec![format!("{ename}: {evalue}")],
            evalue,
        }
    }

    /// As a reply: the error fields plus `status: "error"`.
    pub fn reply(&self) -> Value {
        let mut value = json!(self);
        value["status"] = json!("error");
        value
    }
}

pub fn status(state: &str) -> Value {
    json!({ "execution_state": state })
}

pub fn stream(name: &str, text: &str) -> Value {
    json!({ "name": name, "text": text })
}

pub fn execute_input(code: &str, execution_count: u64) -> Value {
    json!({ "code": code, "execution_count": execution_count })
}

pub fn display_data(data: Map<String, Value>) -> Value {
    json!({ "data": data, "metadata": {}, "transient": {} })
}

/// `display_data` or `update_display_data` content for a display that is
/// updated in place: the id travels in `transient`, which notebooks do not
/// store.
pub fn display_with_id(data: Map<String, Value>, display_id: &str) -> Value {
    json!({ "data": data, "metadata": {}, "transient": { "display_id": display_id } })
}

pub fn execute_result(execution_count: u64, data: Map<String, Value>) -> Value {
    json!({ "execution_count": execution_count, "data": data, "metadata": {} })
}

/// `payload` is what the cell asks of the frontend besides output (see
/// [`ask_exit`]); usually empty.
pub fn execute_reply_ok(
    execution_count: u64,
    user_expressions: Map<String, Value>,
    payload: Vec<Value>,
) -> Value {
    json!({
        "status": "ok",
        "execution_count": execution_count,
        "payload": payload,
        "user_expressions": user_expressions,
    })
}

/// The payload that asks the frontend to close, as IPython's `exit` sends
/// it: `jupyter console` ends (and, as `keepkernel` is false, shuts down
/// the kernel it started); notebooks ignore it.
pub fn ask_exit() -> Value {
    json!({ "source": "ask_exit", "keepkernel": false })
}

pub fn execute_reply_error(execution_count: u64, error: &ErrorContent) -> Value {
    let mut value = error.reply();
    value["execution_count"] = json!(execution_count);
    value
}

/// What ipykernel sends for a queued request skipped after an error.
pub fn aborted() -> Value {
    json!({ "status": "aborted" })
}

pub fn complete_reply(matches: Vec<String>, cursor_start: usize, cursor_end: usize) -> Value {
    json!({
        "status": "ok",
        "matches": matches,
        "cursor_start": cursor_start,
        "cursor_end": cursor_end,
        "metadata": {},
    })
}

pub fn inspect_reply(data: Option<Map<String, Value>>) -> Value {
    json!({
        "status": "ok",
        "found": data.is_some(),
        "data": data.unwrap_or_default(),
        "metadata": {},
    })
}

pub fn is_complete_reply(status: &str, indent: Option<&str>) -> Value {
    match indent {
        Some(indent) => json!({ "status": status, "indent": indent }),
        None => json!({ "status": status }),
    }
}

pub fn history_reply(history: Vec<Value>) -> Value {
    json!({ "status": "ok", "history": history })
}

pub fn comm_info_reply() -> Value {
    json!({ "status": "ok", "comms": {} })
}

pub fn comm_close(comm_id: &str) -> Value {
    json!({ "comm_id": comm_id, "data": {} })
}

pub fn shutdown_reply(restart: bool) -> Value {
    json!({ "status": "ok", "restart": restart })
}

pub fn interrupt_reply() -> Value {
    json!({ "status": "ok" })
}

pub fn iopub_welcome(subscription: &str) -> Value {
    json!({ "subscription": subscription })
}

/// `kernel_info_reply`, identical on shell and control.
pub fn kernel_info_reply() -> Value {
    json!({
        "status": "ok",
        "protocol_version": PROTOCOL_VERSION,
        "implementation": "sled-kernel",
        "implementation_version": env!("CARGO_PKG_VERSION"),
        "language_info": {
            "name": "sled-kv",
            "version": "0.34.7",
            "mimetype": "text/x-sled-kv",
            "file_extension": ".sledkv",
            "pygments_lexer": "sled-kv",
            // JupyterLab looks the name up first: with the jupyterlab-sled-kv
            // extension (labextension/) that is the sled-kv language. Without
            // it the name is unknown and the mime type picks the shell mode,
            // which still colours strings and comments.
            "codemirror_mode": { "name": "sled-kv", "mime": "text/x-sh" },
        },
        "banner": concat!(
            "sled-kernel ", env!("CARGO_PKG_VERSION"),
            ": cells are commands against an embedded sled 0.34.7 database.\n",
            "Try: insert todo:001 \"buy boots\"   get todo:001   scan_prefix todo:   keys"
        ),
        "help_links": [
            { "text": "sled 0.34.7 API", "url": "https://docs.rs/sled/0.34.7/sled/" },
            { "text": "Jupyter messaging", "url": "https://jupyter-client.readthedocs.io/en/stable/messaging.html" },
        ],
        "supported_features": ["iopub_welcome"],
        "debugger": false,
    })
}

/// The reply type for a request type: `foo_request` → `foo_reply`.
pub fn reply_type(request_type: &str) -> Option<String> {
    request_type
        .strip_suffix("_request")
        .map(|stem| format!("{stem}_reply"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_carry_session_version_and_a_utc_date() {
        let session = KernelSession::new("kernel");
        let header = session.header("status");
        assert_eq!(header.session, session.id);
        assert_eq!(header.version, PROTOCOL_VERSION);
        assert!(header.date.ends_with('Z'), "{}", header.date);
        assert!(chrono::DateTime::parse_from_rfc3339(&header.date).is_ok());
    }

    #[test]
    fn replies_echo_the_request_header_as_parent() {
        let frontend = KernelSession::new("user");
        let mut request = frontend.request("kernel_info_request", json!({}));
        request.identities = vec![b"id".to_vec()];
        request
            .header
            .extra
            .insert("subshell_id".into(), json!(null));
        let kernel = KernelSession::new("kernel");
        let reply = kernel.reply(&request, "kernel_info_reply", kernel_info_reply());
        assert_eq!(reply.identities, request.identities);
        assert_eq!(reply.parent_header["msg_id"], json!(request.header.msg_id));
        assert!(reply.parent_header.get("subshell_id").is_some());
        assert_eq!(reply.header.session, kernel.id);
    }

    #[test]
    fn execute_request_defaults_follow_the_spec() {
        let msg = KernelSession::new("u").request("execute_request", json!({"code": "keys"}));
        let req: ExecuteRequest = msg.parse().unwrap();
        assert!(req.store_history && req.stop_on_error && !req.silent);
        let bad = KernelSession::new("u").request("execute_request", json!({"code": 5}));
        assert!(bad
            .parse::<ExecuteRequest>()
            .unwrap_err()
            .contains("execute_request"));
    }

    #[test]
    fn reply_types() {
        assert_eq!(reply_type("foo_request").as_deref(), Some("foo_reply"));
        assert_eq!(reply_type("comm_msg"), None);
    }
}
