//! The wire format: a zmq multipart message is
//! `[identities…, "<IDS|MSG>", signature, header, parent_header, metadata, content, buffers…]`,
//! where the signature is the hex HMAC-SHA256 of the four JSON frames.
//!
//! Decoding is strict and never panics: anything malformed becomes a
//! [`WireError`], which the socket loops log and drop without replying.

use crate::message::{Header, Message};
use hmac::{Hmac, Mac};
use serde_json::{Map, Value};
use sha2::Sha256;
use thiserror::Error;

pub const DELIMITER: &[u8] = b"<IDS|MSG>";

/// The largest message we accept. A cell that inserts a 64 MiB value fits;
/// anything past this is a mistake or an attack, and is dropped before any
/// JSON is parsed.
pub const MAX_MESSAGE_BYTES: usize = 128 * 1024 * 1024;

type HmacSha256 = Hmac<Sha256>;

/// Signs and verifies messages with the connection file's key.
/// An empty key means messages are neither signed nor checked, as the spec says.
#[derive(Clone)]
pub struct Signer {
    mac: Option<HmacSha256>,
}

impl Signer {
    pub fn new(key: &str) -> Self {
        let mac = (!key.is_empty()).then(|| {
            // HMAC accepts keys of any length, so this cannot fail.
            HmacSha256::new_from_slice(key.as_bytes()).expect("HMAC takes any key length")
        });
        Signer { mac }
    }

    fn mac_of(&self, parts: &[&[u8]]) -> Option<HmacSha256> {
        let mut mac = self.mac.clone()?;
        for part in parts {
            mac.update(part);
        }
        Some(mac)
    }

    /// Hex signature of the four JSON frames ("" when unsigned).
    pub fn sign(&self, parts: &[&[u8]]) -> String {
        self.mac_of(parts)
            .map(|mac| hex::encode(mac.finalize().into_bytes()))
            .unwrap_or_default()
    }

    /// Checks a hex signature in constant time (hmac's `verify_slice`).
    pub fn verify(&self, signature: &[u8], parts: &[&[u8]]) -> bool {
        match self.mac_of(parts) {
            None => true,
            Some(mac) => match hex::decode(signature) {
                Ok(raw) => mac.verify_slice(&raw).is_ok(),
                Err(_) => false,
            },
        }
    }
}

#[derive(Debug, Error, PartialEq)]
pub enum WireError {
    #[error("no <IDS|MSG> delimiter among {0} frames")]
    NoDelimiter(usize),
    #[error("only {0} frames after <IDS|MSG>; a message needs a signature and four JSON frames")]
    TooFewFrames(usize),
    #[error("message of {0} bytes is larger than the {MAX_MESSAGE_BYTES} bytes accepted")]
    TooLarge(usize),
    #[error("signature does not match the connection key")]
    BadSignature,
    #[error("{frame} frame is not valid JSON: {reason}")]
    BadJson { frame: &'static str, reason: String },
    #[error("{frame} frame must be a JSON object")]
    NotAnObject { frame: &'static str },
}

/// Splits, verifies and parses one received multipart message.
pub fn decode(frames: Vec<Vec<u8>>, signer: &Signer) -> Result<Message, WireError> {
    let size: usize = frames.iter().map(Vec::len).sum();
    if size > MAX_MESSAGE_BYTES {
        return Err(WireError::TooLarge(size));
    }
    let total = frames.len();
    let split = frames
        .iter()
        .position(|f| f == DELIMITER)
        .ok_or(WireError::NoDelimiter(total))?;
    let mut frames = frames.into_iter();
    let identities: Vec<Vec<u8>> = frames.by_ref().take(split).collect();
    frames.next(); // the delimiter
    let rest: Vec<Vec<u8>> = frames.collect();
    if rest.len() < 5 {
        return Err(WireError::TooFewFrames(rest.len()));
    }
    let [signature, header, parent, metadata, content] = [0, 1, 2, 3, 4].map(|i| &rest[i]);
    if !signer.verify(signature, &[header, parent, metadata, content]) {
        return Err(WireError::BadSignature);
    }
    let header_value = object("header", header)?;
    let header: Header =
        serde_json::from_value(Value::Object(header_value)).map_err(|e| WireError::BadJson {
            frame: "header",
            reason: e.to_string(),
        })?;
    Ok(Message {
        identities,
        header,
        parent_header: Value::Object(object("parent_header", parent)?),
        metadata: object("metadata", metadata)?,
        content: Value::Object(object("content", content)?),
        buffers: rest[5..].to_vec(),
    })
}

fn object(frame: &'static str, bytes: &[u8]) -> Result<Map<String, Value>, WireError> {
    match serde_json::from_slice(bytes) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err(WireError::NotAnObject { frame }),
        Err(e) => Err(WireError::BadJson {
            frame,
            reason: e.to_string(),
        }),
    }
}

/// Serialises and signs a message into its frames.
pub fn encode(msg: &Message, signer: &Signer) -> Vec<Vec<u8>> {
    // Serialising our own typed values to JSON cannot fail.
    let json = |v: &dyn erased::Json| v.to_vec();
    let header = json(&msg.header);
    let parent = json(&msg.parent_header);
    let metadata = json(&msg.metadata);
    let content = json(&msg.content);
    let signature = signer.sign(&[&header, &parent, &metadata, &content]);
    let mut frames = msg.identities.clone();
    frames.push(DELIMITER.to_vec());
    frames.push(signature.into_bytes());
    frames.extend([header, parent, metadata, content]);
    frames.extend(msg.buffers.iter().cloned());
    frames
}

mod erased {
    /// Lets `encode` serialise its four differently typed parts with one closure.
    pub(super) trait Json {
        fn to_vec(&self) -> Vec<u8>;
    }
    impl<T: serde::Serialize> Json for T {
        fn to_vec(&self) -> Vec<u8> {
            serde_json::to_vec(self).unwrap_or_else(|_| b"{}".to_vec())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::KernelSession;
    use serde_json::json;

    fn sample(signer: &Signer) -> Vec<Vec<u8>> {
        let session = KernelSession::new("secret");
        let msg = session.request("execute_request", json!({"code": "get k"}));
        encode(&msg, signer)
    }

    #[test]
    fn signature_is_hmac_sha256_hex_of_the_four_frames() {
        // Known answer from Python: hmac.new(b"key", b"abcd", hashlib.sha256).hexdigest()
        let signer = Signer::new("key");
        let expected = "2a31ec0ee8d878c9eece9fb0df79b3b90b2256240163aa5ee50d176d3d1121f8";
        assert_eq!(signer.sign(&[b"a", b"b", b"c", b"d"]), expected);
        assert!(signer.verify(expected.as_bytes(), &[b"ab", b"cd"]));
    }

    #[test]
    fn round_trips_a_signed_message() {
        let signer = Signer::new("secret");
        let mut frames = vec![b"client-id".to_vec()];
        frames.extend(sample(&signer));
        let msg = decode(frames, &signer).unwrap();
        assert_eq!(msg.identities, vec![b"client-id".to_vec()]);
        assert_eq!(msg.header.msg_type, "execute_request");
        assert_eq!(msg.content["code"], "get k");
    }

    #[test]
    fn rejects_a_tampered_content_frame() {
        let signer = Signer::new("secret");
        let mut frames = sample(&signer);
        let last = frames.len() - 1;
        frames[last] = br#"{"code": "remove k"}"#.to_vec();
        assert_eq!(
            decode(frames, &signer).unwrap_err(),
            WireError::BadSignature
        );
    }

    #[test]
    fn rejects_a_message_signed_with_another_key() {
        let frames = sample(&Signer::new("other"));
        assert_eq!(
            decode(frames, &Signer::new("secret")).unwrap_err(),
            WireError::BadSignature
        );
    }

    #[test]
    fn rejects_a_missing_or_non_hex_signature() {
        let signer = Signer::new("secret");
        let mut frames = sample(&signer);
        frames[1] = b"".to_vec();
        assert_eq!(
            decode(frames.clone(), &signer).unwrap_err(),
            WireError::BadSignature
        );
        frames[1] = b"zz".to_vec();
        assert_eq!(
            decode(frames, &signer).unwrap_err(),
            WireError::BadSignature
        );
    }

    #[test]
    fn only_the_whole_signature_passes() {
        // `verify_slice` compares in constant time and wants the full
        // 32-byte tag: a prefix (which a byte-by-byte timing attack
        // would guess first) or a longer string is refused.
        let signer = Signer::new("secret");
        let frames = sample(&signer);
        let good = String::from_utf8(frames[1].clone()).unwrap();
        assert_eq!(good.len(), 64);
        let with = |signature: &str| {
            let mut frames = frames.clone();
            frames[1] = signature.as_bytes().to_vec();
            decode(frames, &signer).map(|_| ())
        };
        assert_eq!(with(&good), Ok(()));
        assert_eq!(with(&good.to_uppercase()), Ok(()), "hex in either case");
        for bad in [&good[..62], &good[..2], &format!("{good}00"), &good[1..]] {
            assert_eq!(with(bad), Err(WireError::BadSignature), "{bad}");
        }
    }

    #[test]
    fn empty_key_means_unsigned() {
        let signer = Signer::new("");
        let frames = sample(&signer);
        assert_eq!(frames[1], b"");
        assert!(decode(frames, &signer).is_ok());
    }

    #[test]
    fn missing_delimiter_and_short_messages_are_errors() {
        let signer = Signer::new("");
        assert_eq!(
            decode(vec![b"x".to_vec()], &signer).unwrap_err(),
            WireError::NoDelimiter(1)
        );
        let mut frames = sample(&signer);
        frames.truncate(4);
        assert_eq!(
            decode(frames, &signer).unwrap_err(),
            WireError::TooFewFrames(3)
        );
    }

    #[test]
    fn bad_json_names_the_frame() {
        let signer = Signer::new("");
        let mut frames = sample(&signer);
        frames[5] = b"{not json".to_vec();
        match decode(frames, &signer).unwrap_err() {
            WireError::BadJson { frame, .. } => assert_eq!(frame, "content"),
            other => panic!("unexpected {other:?}"),
        }
        let mut frames = sample(&signer);
        frames[2] = b"[1]".to_vec();
        assert_eq!(
            decode(frames, &signer).unwrap_err(),
            WireError::NotAnObject { frame: "header" }
        );
    }

    #[test]
    fn oversized_messages_are_refused_before_parsing() {
        let signer = Signer::new("");
        let mut frames = sample(&signer);
        frames.push(vec![b' '; MAX_MESSAGE_BYTES]);
        assert!(matches!(
            decode(frames, &signer).unwrap_err(),
            WireError::TooLarge(n) if n > MAX_MESSAGE_BYTES
        ));
    }

    #[test]
    fn buffers_are_kept() {
        let signer = Signer::new("k");
        let mut frames = sample(&signer);
        frames.push(b"\x00\x01".to_vec());
        let msg = decode(frames, &signer).unwrap();
        assert_eq!(msg.buffers, vec![b"\x00\x01".to_vec()]);
    }
}
