//! Turns token pieces into answer text: UTF-8 that a token split across
//! pieces is joined before it is sent, and stop sequences that are cut out,
//! holding back any tail that could still become one.

/// What [`TextAssembler::push`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pushed {
    /// Text that is safe to send now.
    pub text: String,
    /// A stop sequence was reached: the answer ends here.
    pub stopped: bool,
}

#[derive(Debug, Default)]
pub struct TextAssembler {
    /// Bytes of a character whose remaining bytes come in a later piece.
    partial: Vec<u8>,
    /// Decoded text not yet sent because it may start a stop sequence.
    held: String,
    stop: Vec<String>,
}

impl TextAssembler {
    pub fn new(stop: Vec<String>) -> Self {
        Self {
            stop: stop.into_iter().filter(|s| !s.is_empty()).collect(),
            ..Self::default()
        }
    }

    pub fn push(&mut self, bytes: &[u8]) -> Pushed {
        self.partial.extend_from_slice(bytes);
        let decoded = take_valid_utf8(&mut self.partial);
        self.held.push_str(&decoded);
        self.release()
    }

    /// Whatever is left when the answer ends for another reason.
    pub fn finish(&mut self) -> String {
        let mut rest = std::mem::take(&mut self.held);
        if !self.partial.is_empty() {
            rest.push_str(&String::from_utf8_lossy(&std::mem::take(&mut self.partial)));
        }
        rest
    }

    fn release(&mut self) -> Pushed {
        if let Some(at) = self
            .stop
            .iter()
            .filter_map(|stop| self.held.find(stop.as_str()))
            .min()
        {
            let text = self.held[..at].to_owned();
            self.held.clear();
            self.partial.clear();
            return Pushed {
                text,
                stopped: true,
            };
        }
        // Keep the longest tail that is a prefix of some stop sequence.
        let keep = self
            .stop
            .iter()
            .map(|stop| longest_suffix_prefix(&self.held, stop))
            .max()
            .unwrap_or(0);
        let cut = self.held.len() - keep;
        let text = self.held[..cut].to_owned();
        self.held.drain(..cut);
        Pushed {
            text,
            stopped: false,
        }
    }
}

/// Removes and returns the longest valid UTF-8 prefix of `bytes`. Invalid
/// sequences (not merely incomplete ones) become U+FFFD so one bad token
/// cannot stall the stream.
fn take_valid_utf8(bytes: &mut Vec<u8>) -> String {
    let mut out = String::new();
    loop {
        match std::str::from_utf8(bytes) {
            Ok(text) => {
                out.push_str(text);
                bytes.clear();
                return out;
            }
            Err(error) => {
                let valid = error.valid_up_to();
                out.push_str(std::str::from_utf8(&bytes[..valid]).unwrap_or_default());
                match error.error_len() {
                    // Incomplete character at the end: wait for more.
                    None => {
                        bytes.drain(..valid);
                        return out;
                    }
                    Some(bad) => {
                        out.push(char::REPLACEMENT_CHARACTER);
                        bytes.drain(..valid + bad);
                    }
                }
            }
        }
    }
}

/// Length of the longest suffix of `text` that is a proper prefix of
/// `stop`, at a character boundary.
fn longest_suffix_prefix(text: &str, stop: &str) -> usize {
    let max = text.len().min(stop.len().saturating_sub(1));
    (1..=max)
        .rev()
        .find(|&n| {
            let start = text.len() - n;
            text.is_char_boundary(start) && stop.starts_with(&text[start..])
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_split_across_pieces_is_sent_whole() {
        let mut text = TextAssembler::new(Vec::new());
        let snowman = "☃".as_bytes();
        assert_eq!(text.push(&snowman[..1]).text, "");
        assert_eq!(text.push(&snowman[1..]).text, "☃");
        assert_eq!(text.push("é!".as_bytes()).text, "é!");
    }

    #[test]
    fn invalid_bytes_become_replacement_characters() {
        let mut text = TextAssembler::new(Vec::new());
        assert_eq!(text.push(&[b'a', 0xff, b'b']).text, "a\u{fffd}b");
    }

    #[test]
    fn stop_sequences_are_cut_and_partial_matches_held() {
        let mut text = TextAssembler::new(vec!["\nUser:".into()]);
        assert_eq!(text.push(b"Hello\nUs").text, "Hello");
        let end = text.push(b"er: hi");
        assert_eq!(
            end,
            Pushed {
                text: String::new(),
                stopped: true
            }
        );
    }

    #[test]
    fn a_held_tail_that_does_not_stop_is_released() {
        let mut text = TextAssembler::new(vec!["STOP".into()]);
        assert_eq!(text.push(b"ST").text, "");
        assert_eq!(text.push(b"AY").text, "STAY");
        assert_eq!(text.push(b"ST").text, "");
        assert_eq!(text.finish(), "ST");
    }
}
