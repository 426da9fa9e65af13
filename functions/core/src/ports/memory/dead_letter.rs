//! `InMemoryDeadLetters`: dead letters kept in a list, for local runs and tests.

use std::sync::Mutex;

use super::lock;
use crate::ports::{DeadLetter, DeadLetters, QueueError};

/// [`DeadLetters`] in memory.
#[derive(Debug, Default)]
pub struct InMemoryDeadLetters {
    letters: Mutex<Vec<DeadLetter>>,
}

impl InMemoryDeadLetters {
    /// No dead letter yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Every dead letter taken, oldest first.
    pub fn letters(&self) -> Vec<DeadLetter> {
        lock(&self.letters).clone()
    }
}

impl DeadLetters for InMemoryDeadLetters {
    async fn send(&self, letter: &DeadLetter) -> Result<(), QueueError> {
        lock(&self.letters).push(letter.clone());
        Ok(())
    }
}
