// Package intents is the intent router: a bot.Handler that, for each
// customer message, detects the language (sticky per conversation),
// applies the explicit rules (a human is always one word away), reads the
// sentiment, classifies the message against the knowledge base's intents and
// FAQ entries, and then answers, offers "did you mean…" choices, or hands
// off to the desk with a reason code.
//
// Subpackages: nlp (normalisation, language detection), classify (the
// in-process classifier and FAQ retriever), kb (the knowledge-base schema
// and files), sentiment, evaluate (the logic behind `supportbot eval`).
package intents
