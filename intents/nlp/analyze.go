package nlp

import (
	"math"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// scoreIndex is the per-message form of a Detector's language models: one
// lookup per feature instead of one per feature and language. A row holds
// the log-probability of a feature in every language (the language's
// unseen value where it lacks the feature), in the order of Detector.langs.
type scoreIndex struct {
	grams, words map[string]int32 // feature → row
	rows         []float64        // row*len(langs) + language
}

// fastState is Analyze's form of a Detector: the index NewDetector builds,
// and scratch space.
type fastState struct {
	ix   *scoreIndex
	pool sync.Pool // *scanner
}

func newScoreIndex(langs []*langModel) *scoreIndex {
	ix := &scoreIndex{grams: map[string]int32{}, words: map[string]int32{}}
	add := func(keys map[string]int32, table func(*langModel) map[string]float64, unseen func(*langModel) float64) {
		for _, m := range langs {
			for f := range table(m) {
				if _, ok := keys[f]; ok {
					continue
				}
				keys[f] = int32(len(ix.rows) / len(langs))
				for _, l := range langs {
					lp, ok := table(l)[f]
					if !ok {
						lp = unseen(l)
					}
					ix.rows = append(ix.rows, lp)
				}
			}
		}
	}
	add(ix.grams, func(m *langModel) map[string]float64 { return m.grams }, func(m *langModel) float64 { return m.gramUnseen })
	add(ix.words, func(m *langModel) map[string]float64 { return m.words }, func(m *langModel) float64 { return m.wordUnseen })
	return ix
}

// scanner holds the words of one message as forEachFeature sees them,
// without allocating for ASCII words: buf holds each word lower-cased and
// padded with spaces, " word ".
type scanner struct {
	buf    []byte
	words  []scanWord
	bounds []int // rune starts of one padded word, and its length
	scores []float64
}

type scanWord struct {
	start, end int // the word is buf[start:end], padded buf[start-1:end+1]
	name       bool
}

func (s *scanner) word(w scanWord) []byte { return s.buf[w.start:w.end] }

// scan splits text into words exactly as forEachFeature does.
func (s *scanner) scan(text string) {
	s.buf, s.words = s.buf[:0], s.words[:0]
	text = norm.NFC.String(strings.ToValidUTF8(text, " "))
	first := true
	field := func(w string) {
		w = strings.TrimLeft(w, ".?!")
		r, _ := utf8.DecodeRuneInString(w)
		name := unicode.IsUpper(r) && !first
		i := strings.IndexAny(w, ".?!")
		first = i >= 0
		if i >= 0 {
			w = w[:i]
		}
		if w == "" {
			return
		}
		s.buf = append(s.buf, ' ')
		start := len(s.buf)
		if isASCII(w) {
			for i := 0; i < len(w); i++ {
				c := w[i]
				if 'A' <= c && c <= 'Z' {
					c += 'a' - 'A'
				}
				s.buf = append(s.buf, c)
			}
		} else {
			s.buf = append(s.buf, strings.ToLower(TransliterateSerbian(w))...)
		}
		s.words = append(s.words, scanWord{start, len(s.buf), name})
		s.buf = append(s.buf, ' ')
	}
	start := -1 // of the current field
	for i := 0; i < len(text); {
		c := text[i]
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(text[i:])
		}
		in := r == '.' || r == '?' || r == '!'
		if !in {
			if r < utf8.RuneSelf {
				in = 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z'
			} else {
				in = unicode.IsLetter(r)
			}
		}
		switch {
		case in && start < 0:
			start = i
		case !in && start >= 0:
			field(text[start:i])
			start = -1
		}
		i += size
	}
	if start >= 0 {
		field(text[start:])
	}
	// One or two short lower-case words between two names belong to the
	// name (see forEachFeature).
	short := func(j int) bool {
		return j < len(s.words) && utf8.RuneCount(s.word(s.words[j])) <= 3
	}
	for i := 1; i+1 < len(s.words); i++ {
		if !s.words[i-1].name || s.words[i].name || !short(i) {
			continue
		}
		if s.words[i+1].name {
			s.words[i].name = true
		} else if short(i+1) && i+2 < len(s.words) && s.words[i+2].name {
			s.words[i].name, s.words[i+1].name = true, true
		}
	}
}

// each calls fn with the features of the scanned words in forEachFeature's
// order. A feature is only valid during the call.
func (s *scanner) each(fn func(feature []byte, word bool, weight float64)) {
	for _, w := range s.words {
		weight := 1.0
		if w.name {
			weight = nameWeight
		}
		fn(s.word(w), true, weight)
		p := s.buf[w.start-1 : w.end+1]
		if asciiBytes(p) { // a rune is a byte
			for n := 1; n <= 3; n++ {
				for i := 0; i+n <= len(p); i++ {
					if n > 1 || p[i] != ' ' {
						fn(p[i:i+n], false, weight)
					}
				}
			}
			continue
		}
		b := s.bounds[:0]
		for i, c := range p {
			if utf8.RuneStart(c) {
				b = append(b, i)
			}
		}
		b = append(b, len(p))
		s.bounds = b
		for n := 1; n <= 3; n++ {
			for i := 0; i+n < len(b); i++ {
				if n > 1 || p[b[i]] != ' ' {
					fn(p[b[i]:b[i+n]], false, weight)
				}
			}
		}
	}
}

// Analyze is Detect with the script of the text.
func (d *Detector) Analyze(text string) Detection {
	res := Detection{Script: script(text)}
	if len(d.langs) == 0 || res.Script == "" {
		return res
	}
	ix := d.fast.ix
	s, _ := d.fast.pool.Get().(*scanner)
	if s == nil {
		s = &scanner{}
	}
	defer d.fast.pool.Put(s)
	nl := len(d.langs)
	if cap(s.scores) < nl {
		s.scores = make([]float64, nl)
	}
	scores := s.scores[:nl]
	clear(scores)
	var letters float64
	s.scan(text)
	s.each(func(g []byte, word bool, weight float64) {
		keys := ix.grams
		if word {
			letters += weight * float64(utf8.RuneCount(g))
			keys = ix.words
			weight *= wordWeight
		}
		// Evidence no language has seen (names, numbers) says nothing;
		// the index holds the features some language has seen.
		row, ok := keys[string(g)]
		if !ok {
			return
		}
		for i, lp := range ix.rows[int(row)*nl : int(row)*nl+nl] {
			scores[i] += weight * lp
		}
	})
	return d.decideLang(res, scores, letters)
}

// decideLang turns the language scores into the detection.
func (d *Detector) decideLang(res Detection, scores []float64, letters float64) Detection {
	// Cyrillic text is Serbian unless examples showed another language in
	// Cyrillic; Latin text is not one only ever seen in Cyrillic.
	for i, m := range d.langs {
		cyrOK := m.code == "sr" || d.hasCyr[m.code]
		if res.Script == "Cyrl" && !cyrOK {
			scores[i] -= 1e6
		}
	}
	best, sum := 0, 0.0
	for i := range scores {
		if scores[i] > scores[best] {
			best = i
		}
	}
	for i := range scores {
		sum += math.Exp(confScale * (scores[i] - scores[best]))
	}
	res.Lang = d.langs[best].code
	res.Confidence = 1 / sum * math.Min(1, letters/fullConfLetters)
	return res
}

func asciiBytes(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
