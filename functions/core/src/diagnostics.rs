//! Turning errors into log text: one line with every cause, so a log field
//! says why, not only what (`"the provisioning queue refused the request: …"`).

use std::error::Error;

/// `error` and its causes, outermost first, joined with `: `.
pub fn error_chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] Middle);

    #[derive(Debug, thiserror::Error)]
    #[error("middle")]
    struct Middle(#[source] std::io::Error);

    #[test]
    fn when_an_error_has_causes_should_list_them_all_outermost_first() {
        let error = Outer(Middle(std::io::Error::other("inner")));
        assert_eq!(error_chain(&error), "outer: middle: inner");
        assert_eq!(error_chain(&std::io::Error::other("alone")), "alone");
    }
}
