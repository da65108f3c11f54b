//! Fuzz target: any bytes given to the protocol decoder either fail with an error or give a
//! message that encodes and decodes back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::protocol::{decode, encode};

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = decode(data) {
        let again = decode(&encode(&message)).expect("what the encoder writes, the decoder reads");
        assert_eq!(again, message);
    }
});
