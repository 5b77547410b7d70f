//! Jupyter messages: the header, the envelope, and the content of every
//! request we read and reply we send. Each message type lives here, once.

use crate::cell::{CellError, MimeBundle};
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
    /// request's header as parent, the type `content`'s own.
    pub fn reply<C: Content>(&self, parent: &Message, content: &C) -> Message {
        self.reply_as(parent, C::MSG_TYPE, content_value(content))
    }

    /// The error reply to a request type we do not know, when its type asks
    /// for one (`foo_request` → `foo_reply`); `None` for anything else.
    pub fn unknown_reply(&self, request: &Message) -> Option<Message> {
        let reply_type = reply_type(request.msg_type())?;
        let error = CellError::new(
            "UnknownMessageType",
            format!(
                "sled-kernel does not handle {:?} messages",
                request.msg_type()
            ),
        );
        let content = content_value(&Reply::<Interrupted>::error(error));
        Some(self.reply_as(request, &reply_type, content))
    }

    fn reply_as(&self, parent: &Message, msg_type: &str, content: Value) -> Message {
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
    pub fn broadcast<C: Content>(&self, parent: Option<&Message>, content: &C) -> Message {
        Message {
            identities: vec![format!("kernel.{}.{}", self.id, C::MSG_TYPE).into_bytes()],
            header: self.header(C::MSG_TYPE),
            parent_header: parent.map_or_else(|| json!({}), |p| header_value(&p.header)),
            metadata: Map::new(),
            content: content_value(content),
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

/// The content types here are structs of strings, numbers and maps with
/// string keys, which always serialize; should one ever fail, the message
/// still goes out, empty, and the log says why.
fn content_value(content: &impl Serialize) -> Value {
    serde_json::to_value(content).unwrap_or_else(|e| {
        log::error!("cannot serialize a message's content: {e}");
        json!({})
    })
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
//
// Every message the kernel sends has a content type here. Its Rust type names
// the message (`Content::MSG_TYPE`), so a reply cannot go out under another
// type's name, and every status is an enum, so it cannot be misspelt. The
// list at the bottom of this section is every type the kernel sends; the
// integration tests decode all of them with a strict Rust client.

/// The content of a message the kernel sends.
pub trait Content: Serialize {
    /// The `msg_type` this content goes out as.
    const MSG_TYPE: &'static str;
}

/// A reply's content: `status: "ok"` with the reply's own fields, or
/// `status: "error"` with `ename`, `evalue` and `traceback`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum Reply<T> {
    Ok(T),
    /// Built with [`Reply::error`]. The reply's own fields go along, empty:
    /// the protocol lets an error reply leave them out, but strict clients
    /// (runtimed's `jupyter-protocol`) cannot read a `complete_reply` or a
    /// `history_reply` without them.
    Error {
        #[serde(flatten)]
        error: CellError,
        #[serde(flatten)]
        empty: T,
    },
}

impl<T: Default> Reply<T> {
    pub fn error(error: CellError) -> Self {
        Reply::Error {
            error,
            empty: T::default(),
        }
    }
}

/// `execute_reply`: the cell ran, failed, or was skipped because a cell
/// before it failed (what ipykernel sends for the requests queued behind
/// an error).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum ExecuteReply {
    Ok {
        execution_count: u64,
        /// What the cell asks of the frontend besides output (see [`Payload`]).
        payload: Vec<Payload>,
        user_expressions: Map<String, Value>,
    },
    Error {
        execution_count: u64,
        #[serde(flatten)]
        error: CellError,
    },
    Aborted {},
}

/// A request to the frontend carried in an `execute_reply` (the protocol
/// calls these payloads deprecated, yet frontends still act on them).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Payload {
    /// Close the frontend, as IPython's `exit` asks: `jupyter console` ends
    /// (and, as `keepkernel` is false, shuts down the kernel it started);
    /// notebooks ignore it.
    AskExit { keepkernel: bool },
}

/// A user expression's value in an `execute_reply`: its result bundle.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ExpressionValue {
    pub data: MimeBundle,
    pub metadata: Map<String, Value>,
}

/// `kernel_info_reply`'s content, identical on shell and control.
#[derive(Debug, Clone, Serialize)]
pub struct KernelInfo {
    pub protocol_version: &'static str,
    pub implementation: &'static str,
    pub implementation_version: &'static str,
    pub language_info: LanguageInfo,
    pub banner: &'static str,
    pub help_links: Vec<HelpLink>,
    pub supported_features: Vec<&'static str>,
    pub debugger: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct LanguageInfo {
    pub name: &'static str,
    pub version: &'static str,
    pub mimetype: &'static str,
    pub file_extension: &'static str,
    pub pygments_lexer: &'static str,
    pub codemirror_mode: CodeMirrorMode,
}

/// The editor mode a frontend should use for cells.
#[derive(Debug, Clone, Serialize)]
pub struct CodeMirrorMode {
    /// JupyterLab looks the name up first: with the jupyterlab-sled-kv
    /// extension (labextension/) that is the sled-kv language.
    pub name: &'static str,
    /// Without the extension the name is unknown and JupyterLab goes on to
    /// the mime type: the shell mode, which still colours strings and
    /// comments.
    pub mime: &'static str,
    /// JupyterLab ignores it. Strict clients need it: runtimed's
    /// `jupyter-protocol` up to 2.0.2 (nteract's desktop app, runtimed's
    /// tools) reads a mode object as `{name, version}` and rejects one
    /// without a version, failing the whole `kernel_info_reply`.
    pub version: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct HelpLink {
    pub text: &'static str,
    pub url: &'static str,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Completions {
    pub matches: Vec<String>,
    pub cursor_start: usize,
    pub cursor_end: usize,
    pub metadata: Map<String, Value>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Inspection {
    pub found: bool,
    pub data: MimeBundle,
    pub metadata: Map<String, Value>,
}

/// `is_complete_reply`, whose `status` is the verdict itself.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum IsCompleteReply {
    Complete,
    Incomplete {
        indent: String,
    },
    Invalid,
    /// The request could not be read; the frontend decides by itself.
    Unknown,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct History {
    pub history: Vec<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommInfo {
    /// No comm is ever opened here.
    pub comms: Map<String, Value>,
}

/// The deprecated `connect_reply`: the ports the kernel listens on.
#[derive(Debug, Clone, Serialize)]
pub struct Ports {
    pub shell_port: u16,
    pub iopub_port: u16,
    pub stdin_port: u16,
    pub hb_port: u16,
    pub control_port: u16,
}

#[derive(Debug, Clone, Serialize)]
pub struct Shutdown {
    pub restart: bool,
}

/// `interrupt_reply` carries nothing but its status.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Interrupted {}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutionState {
    Busy,
    Idle,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub execution_state: ExecutionState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StreamName {
    Stdout,
    Stderr,
}

#[derive(Debug, Clone, Serialize)]
pub struct Stream {
    pub name: StreamName,
    pub text: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExecuteInput {
    pub code: String,
    pub execution_count: u64,
}

/// `display_data`: a bundle shown in the cell's output. With a
/// `display_id` in `transient` (which notebooks do not store), later
/// [`UpdateDisplayData`] messages replace it in place.
#[derive(Debug, Clone, Serialize)]
pub struct DisplayData {
    pub data: MimeBundle,
    pub metadata: Map<String, Value>,
    pub transient: Transient,
}

impl DisplayData {
    pub fn new(data: MimeBundle, display_id: Option<&str>) -> Self {
        DisplayData {
            data,
            metadata: Map::new(),
            transient: Transient {
                display_id: display_id.map(str::to_string),
            },
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Transient {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display_id: Option<String>,
}

/// `update_display_data`: new contents for the display with this id,
/// wherever it is shown.
#[derive(Debug, Clone, Serialize)]
#[serde(transparent)]
pub struct UpdateDisplayData(pub DisplayData);

#[derive(Debug, Clone, Serialize)]
pub struct ExecuteResult {
    pub execution_count: u64,
    pub data: MimeBundle,
    pub metadata: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommClose {
    pub comm_id: String,
    pub data: Map<String, Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct IopubWelcome {
    pub subscription: String,
}

macro_rules! sent {
    ($($content:ty => $msg_type:literal,)*) => {
        $(impl Content for $content {
            const MSG_TYPE: &'static str = $msg_type;
        })*
        /// Every `msg_type` the kernel sends, besides the error reply to a
        /// request it does not know (named after the request: see
        /// [`KernelSession::unknown_reply`]).
        pub const SENT: &[&str] = &[$($msg_type),*];
    };
}

sent! {
    Reply<KernelInfo> => "kernel_info_reply",
    ExecuteReply => "execute_reply",
    Reply<Completions> => "complete_reply",
    Reply<Inspection> => "inspect_reply",
    IsCompleteReply => "is_complete_reply",
    Reply<History> => "history_reply",
    Reply<CommInfo> => "comm_info_reply",
    Reply<Ports> => "connect_reply",
    Reply<Shutdown> => "shutdown_reply",
    Reply<Interrupted> => "interrupt_reply",
    Status => "status",
    Stream => "stream",
    ExecuteInput => "execute_input",
    DisplayData => "display_data",
    UpdateDisplayData => "update_display_data",
    ExecuteResult => "execute_result",
    CellError => "error",
    CommClose => "comm_close",
    IopubWelcome => "iopub_welcome",
}

/// `kernel_info_reply`, identical on shell and control.
pub fn kernel_info() -> Reply<KernelInfo> {
    Reply::Ok(KernelInfo {
        protocol_version: PROTOCOL_VERSION,
        implementation: "sled-kernel",
        implementation_version: env!("CARGO_PKG_VERSION"),
        language_info: LanguageInfo {
            name: "sled-kv",
            version: "0.34.7",
            mimetype: "text/x-sled-kv",
            file_extension: ".sledkv",
            pygments_lexer: "sled-kv",
            codemirror_mode: CodeMirrorMode {
                name: "sled-kv",
                mime: "text/x-sh",
                version: 1,
            },
        },
        banner: concat!(
            "sled-kernel ",
            env!("CARGO_PKG_VERSION"),
            ": cells are commands against an embedded sled 0.34.7 database.\n",
            "Try: insert todo:001 \"buy boots\"   get todo:001   scan_prefix todo:   keys"
        ),
        help_links: vec![
            HelpLink {
                text: "sled 0.34.7 API",
                url: "https://docs.rs/sled/0.34.7/sled/",
            },
            HelpLink {
                text: "Jupyter messaging",
                url: "https://jupyter-client.readthedocs.io/en/stable/messaging.html",
            },
        ],
        supported_features: vec!["iopub_welcome"],
        debugger: false,
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
        let reply = kernel.reply(&request, &kernel_info());
        assert_eq!(reply.header.msg_type, "kernel_info_reply");
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
