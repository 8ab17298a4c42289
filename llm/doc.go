// Package llm is the optional language-model assistance of the bot, over
// any OpenAI-compatible API (OpenAI, Azure OpenAI, a local Ollama, vLLM or
// llama.cpp server) through go-openai. Everything is off by default and
// the bot works fully offline; when the model is slow, down, limited or
// says something the knowledge base does not, the bot takes its offline
// path and the customer notices nothing.
//
//   - Grounder (intents.Assistant): when the router is unsure, writes an
//     answer from the knowledge-base entries retrieval found, in the
//     customer's language, citing them ("[faq:returns]"); Check rejects
//     answers that cite nothing, cite entries not given, or state numbers,
//     links, addresses, refunds, discounts or promises the cited entries
//     do not.
//   - Semantic (intents.Ranker): embedding retrieval blended with the
//     offline ranking; vectors are cached in the store (EmbeddingsDoc) by
//     entry, content hash and model, and recomputed only for edited entries.
//   - Summarizer (handoff.Summarizer) and Translator (handoff.Translator):
//     the handoff card's summary, and two-way translation in the relay.
//
// Every call goes through Client.guard: PII redaction (Redact) before any
// text leaves the process, per-conversation and global rate and token
// limits and a monthly budget, a per-call timeout, a circuit breaker
// (timeouts, 5xx, 429 with Retry-After, network errors), and metrics
// (Stats, Register). Customer and knowledge-base text is data: it goes in
// a delimited user message, never in the system prompt. See docs/llm.md.
package llm
