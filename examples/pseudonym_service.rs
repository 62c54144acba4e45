//! The pseudonymiser embedded in a service: a handler a web framework would call with a
//! request body (one national identifier) and turn into a response. The key is loaded
//! once and held in memory, wiped when the service drops; neither the key nor the
//! identifier ever appears in a response or a log line.
//!
//! ```sh
//! cargo run -p nordlink --example pseudonym_service
//! ```

use nordlink::SecretKey;
use nordlink::id::{Scheme, parse};
use nordlink::pseudonym::{Algorithm, Context, OutputFormat, Pseudonymiser};

/// What the framework sends back: a status and a body.
#[derive(Debug, PartialEq, Eq)]
struct Response {
    status: u16,
    body: String,
}

/// A pseudonymisation endpoint for one scheme and one project context.
struct PseudonymService {
    scheme: Scheme,
    pseudonymiser: Pseudonymiser,
}

impl PseudonymService {
    /// Built once at start-up. A real service reads the key with
    /// `nordlink::keyfile::read_key_file`, which refuses a file others can read.
    fn new(key: &SecretKey, scheme: Scheme, project: &str) -> Result<Self, String> {
        let context = Context::new(project).map_err(|e| e.to_string())?;
        Ok(Self { scheme, pseudonymiser: Pseudonymiser::new(key, Algorithm::HmacSha256, &context) })
    }

    /// The handler: `200` with `{"pseudonym": "..."}`, or `422` with the reason's code.
    /// Safe to call from many threads at once (`&self`).
    fn handle(&self, body: &str) -> Response {
        match parse(self.scheme, body) {
            Ok(id) => Response {
                status: 200,
                body: format!(
                    "{{\"pseudonym\": \"{}\"}}",
                    self.pseudonymiser.pseudonymise(&id).encode(OutputFormat::default())
                ),
            },
            // The code names the problem, never the input.
            Err(e) => Response { status: 422, body: format!("{{\"error\": \"{}\"}}", e.code()) },
        }
    }
}

fn main() {
    let mut raw = [5u8; 32];
    let service = PseudonymService::new(&SecretKey::from_bytes(&mut raw), Scheme::Se, "example")
        .expect("a valid context");
    for body in ["811218-9876", "19811218-9876", "811218-9877"] {
        let r = service.handle(body);
        println!("{} {}", r.status, r.body);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_agree_errors_say_why_and_never_echo() {
        let mut raw = [5u8; 32];
        let service =
            PseudonymService::new(&SecretKey::from_bytes(&mut raw), Scheme::Se, "example").unwrap();
        let a = service.handle("811218-9876");
        assert_eq!(a.status, 200);
        assert_eq!(a, service.handle("19811218-9876"));
        let bad = service.handle("811218-9877");
        assert_eq!(bad.status, 422);
        assert!(!bad.body.contains("811218"), "{}", bad.body);
        // Handlers run concurrently: the service is shared by reference.
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| assert_eq!(service.handle("811218-9876"), a));
            }
        });
        main();
    }
}
