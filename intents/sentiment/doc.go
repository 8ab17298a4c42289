// Package sentiment detects negative sentiment, frustration and complaints
// in customer messages, offline and in a few microseconds, for the handoff
// policy (hand off with reason "complaint" or "negative_sentiment") and
// for queue priority.
//
// Analyze scores one message with a compact lexicon of cues in English,
// Norwegian Bokmål, Swedish, Danish, Serbian (Latin and Cyrillic), German,
// French and Spanish (lexicon.go). The text is folded like nlp.Normalize
// (case, diacritics, Serbian Cyrillic to Latin), split into words, clauses
// and sentences, and matched against the cues; negators flip a cue a few
// words after them ("not bad", "ikke dårlig", "inte dåligt", "nije loše"),
// intensifiers strengthen it ("very disappointing"), and evaluations inside
// a question are weakened ("is it bad to charge overnight?"). The surface
// of the raw text adds shouting in capitals, "!!!" and emoji. Every match
// is listed in Result.Cues, so an agent or an admin can see why.
//
// Mood follows a conversation over its turns: Mood.Handoff says when to
// hand off and with which reason, Mood.Priority how much to raise the
// queue priority, and Mood.Rising flags frustration that grows from turn to
// turn. Trend compares two turns.
//
// # Measured
//
// On testdata/labelled.jsonl: 393 realistic support messages written for
// this package (en 76, nb 77, sv 76, sr 84 of which 38 in Cyrillic, da, de,
// fr and es 20 each), most of them neutral questions, with hard negatives
// such as "how do I cancel my order?" or "can I add another manager?". The
// labelling policy: a complaint is an explicit complaint, a request for a
// manager, a threat to leave or take it further, or an accusation of the
// service ("unacceptable", "nobody answers", "scam", "worst"); a complaint
// is always negative; a plain report of a problem is neutral; frustrated
// means impatience or anger (repeat contacts, "still", caps, "!!!",
// profanity). Rows are split half dev, half test, stratified by language,
// script and labels. The lexicon was tuned on dev only; after the first
// look at test, one general bug was fixed (folded Norwegian "nå" and "så"
// met Serbian "na" and "sa"), which lowered frustration recall on test
// from 0.88 to 0.85 and changed nothing else. P and R are precision and
// recall of the label "negative", of Complaint and of Frustrated; acc is
// the accuracy of the three-way label. TestEvaluation prints this table
// and holds the test split to floors a little under these numbers.
//
//	split lang       n  neg P  R     compl P  R   frust P  R   acc
//	dev   en        38  1.00 1.00    1.00 1.00    1.00 0.86    1.00
//	dev   nb        39  1.00 1.00    1.00 1.00    1.00 1.00    1.00
//	dev   sv        38  1.00 1.00    1.00 0.90    1.00 0.67    1.00
//	dev   da        10  1.00 1.00    1.00 1.00    1.00 1.00    1.00
//	dev   sr        42  1.00 1.00    1.00 0.90    1.00 0.78    1.00
//	dev   sr-Latn   23  1.00 1.00    1.00 1.00    1.00 0.80    1.00
//	dev   sr-Cyrl   19  1.00 1.00    1.00 0.75    1.00 0.75    1.00
//	dev   de        10  1.00 1.00    1.00 1.00    1.00 1.00    1.00
//	dev   fr        10  1.00 1.00    1.00 1.00    1.00 1.00    1.00
//	dev   es        10  1.00 1.00    1.00 1.00    1.00 1.00    1.00
//	dev   all      197  1.00 1.00    1.00 0.96    1.00 0.86    1.00
//	test  en        38  1.00 1.00    1.00 0.89    1.00 0.83    0.97
//	test  nb        38  1.00 1.00    1.00 0.90    1.00 0.50    1.00
//	test  sv        38  0.94 1.00    0.90 1.00    1.00 1.00    0.95
//	test  da        10  1.00 1.00    1.00 1.00    1.00 1.00    1.00
//	test  sr        42  1.00 1.00    1.00 0.78    1.00 0.83    1.00
//	test  sr-Latn   23  1.00 1.00    1.00 0.60    1.00 0.75    1.00
//	test  sr-Cyrl   19  1.00 1.00    1.00 1.00    1.00 1.00    1.00
//	test  de        10  1.00 1.00    1.00 1.00    1.00 1.00    1.00
//	test  fr        10  1.00 1.00    1.00 1.00    1.00 1.00    1.00
//	test  es        10  1.00 1.00    1.00 1.00    1.00 1.00    1.00
//	test  all      196  0.99 1.00    0.98 0.92    1.00 0.85    0.98
//
// Read these numbers as an upper bound. The same author wrote the lexicon
// and the messages, many messages are translations of each other across
// languages, and the test split is small (4 to 15 negative rows per
// language). Real traffic has misspellings, slang, irony and mixed
// languages that this set does not; expect clearly lower recall there,
// and grow the set from real handoffs. The misses on test are the
// disputable cases: a shouted "WHERE IS MY PACKAGE?? I paid for express!"
// is frustrated but not a complaint by the words, "I'm done with you guys"
// is not seen as frustration, a calm "do I need the receipt to return
// (reklamera) an item?" is taken for a complaint.
//
// Cost: about 1 to 3 µs and 3 to 9 allocations per chat message
// (BenchmarkAnalyze); input beyond 4 KB is ignored.
package sentiment
