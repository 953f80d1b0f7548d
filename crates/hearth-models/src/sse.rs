//! The shared half of every streaming provider: send the request, classify
//! a failed answer, and drive a provider-specific [`Decoder`] over the
//! Server-Sent Events of a successful one.
//!
//! Keeping the decoders free of IO (they see one parsed SSE event at a time)
//! lets each provider's tests feed them recorded events directly, and keeps
//! the cancellation story in one place: the returned stream owns the HTTP
//! response, so dropping it closes the connection.

use crate::http_error;
use eventsource_stream::{Event, Eventsource};
use futures::StreamExt;
use hearth_core::{ChatEvent, ChatStream, ErrorKind, ProviderError};
use std::collections::VecDeque;
use std::time::Duration;

/// Where decoded items go. A decoder pushes zero or more events per SSE
/// event; pushing an error ends the stream after it.
pub(crate) type Out = VecDeque<Result<ChatEvent, ProviderError>>;

/// Turns one API's SSE events into [`ChatEvent`]s.
pub(crate) trait Decoder: Send + 'static {
    /// Handles one event. Returns `true` when the stream is complete (the
    /// API's terminal marker was seen).
    fn event(&mut self, event: &Event, out: &mut Out) -> bool;

    /// The connection ended without the terminal marker: push what the
    /// caller should see (usually an error, or a late `Finished`).
    fn end(&mut self, out: &mut Out);
}

/// Sends `request` (bounded by `timeout` up to the response headers; the
/// body is not bounded, as an answer may stream for minutes) and returns the
/// decoded stream, or the classified error of a non-2xx answer.
pub(crate) async fn send(
    provider: &'static str,
    request: reqwest::RequestBuilder,
    timeout: Duration,
    secret: Option<&str>,
    decoder: impl Decoder,
) -> Result<ChatStream, ProviderError> {
    let response = match tokio::time::timeout(timeout, request.send()).await {
        Ok(Ok(response)) => response,
        Ok(Err(err)) => return Err(http_error::from_transport(provider, err)),
        Err(_) => {
            return Err(ProviderError::new(
                ErrorKind::Transient,
                format!("{provider} did not answer within {timeout:?}"),
            ));
        }
    };
    let status = response.status();
    if !status.is_success() {
        let headers = response.headers().clone();
        // The error body is small; if reading it fails we still have the
        // status, which is what the classification mostly needs.
        let body = tokio::time::timeout(timeout, response.text())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        return Err(http_error::classify(
            provider, status, &headers, &body, secret,
        ));
    }
    Ok(decode(
        provider,
        response.bytes_stream().eventsource(),
        decoder,
    ))
}

/// Drives `decoder` over `events` until it reports completion, pushes an
/// error, or the connection ends.
fn decode<S, E>(provider: &'static str, events: S, decoder: impl Decoder) -> ChatStream
where
    S: futures::Stream<Item = Result<Event, eventsource_stream::EventStreamError<E>>>
        + Send
        + Unpin
        + 'static,
    E: std::fmt::Display,
{
    struct State<S, D> {
        events: S,
        decoder: D,
        out: Out,
        done: bool,
    }
    let state = State {
        events,
        decoder,
        out: VecDeque::new(),
        done: false,
    };
    futures::stream::unfold(state, move |mut st| async move {
        loop {
            if let Some(item) = st.out.pop_front() {
                if item.is_err() {
                    // Nothing after an error: the contract says it is the
                    // stream's last item.
                    st.out.clear();
                    st.done = true;
                }
                return Some((item, st));
            }
            if st.done {
                return None;
            }
            match st.events.next().await {
                Some(Ok(event)) => st.done = st.decoder.event(&event, &mut st.out),
                Some(Err(err)) => {
                    st.out.push_back(Err(ProviderError::new(
                        ErrorKind::Transient,
                        format!("{provider} stream broke: {err}"),
                    )));
                    st.done = true;
                }
                None => {
                    st.decoder.end(&mut st.out);
                    st.done = true;
                }
            }
        }
    })
    .boxed()
}

/// Parses an event's JSON payload, turning a parse failure into an error
/// that names the provider (a server that speaks a different dialect should
/// be easy to spot in a log).
pub(crate) fn parse_json<'a, T: serde::Deserialize<'a>>(
    provider: &str,
    data: &'a str,
) -> Result<T, ProviderError> {
    serde_json::from_str(data).map_err(|err| {
        let mut end = data.len().min(200);
        while !data.is_char_boundary(end) {
            end -= 1;
        }
        ProviderError::new(
            ErrorKind::Transient,
            format!(
                "{provider} sent an event we cannot read ({err}): {}",
                &data[..end]
            ),
        )
    })
}
