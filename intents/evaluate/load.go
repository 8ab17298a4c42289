// Package evaluate measures the intent router on labelled data: it loads
// JSON Lines rows, trains a classify.Model on one split (or K folds of
// one split), scores the rest and reports accuracy, out-of-scope figures,
// calibration and latency. It is the logic behind `supportbot eval`.
package evaluate

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/supportbot/supportbot/intents/classify"
)

// ErrBadRow is wrapped by load errors for rows that are not valid JSON
// objects or miss a required field; the message names file and line.
var ErrBadRow = errors.New("bad row")

// Row is one labelled utterance: {"text","intent","split","lang"}. Intent
// "oos" marks an out-of-scope query. Extra keys are ignored.
type Row struct {
	Text   string `json:"text"`
	Intent string `json:"intent"`
	Split  string `json:"split"`
	Lang   string `json:"lang"`
}

// LoadRows reads rows from r; name labels errors ("file:line: ...").
// Every row needs a text and an intent.
func LoadRows(r io.Reader, name string) ([]Row, error) {
	var rows []Row
	err := scanJSONL(r, name, func(line []byte, where string) error {
		var row Row
		if err := json.Unmarshal(line, &row); err != nil {
			return fmt.Errorf("%s: %w: %v", where, ErrBadRow, err)
		}
		if row.Text == "" || row.Intent == "" {
			return fmt.Errorf("%s: %w: need \"text\" and \"intent\"", where, ErrBadRow)
		}
		rows = append(rows, row)
		return nil
	})
	return rows, err
}

// LoadRowsFile is LoadRows on a file.
func LoadRowsFile(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return LoadRows(f, path)
}

// LoadDocuments reads FAQ entries for retrieval scoring, one JSON object
// a line: an id ("answer_id" or "id"), the answer ("text" or "answer"),
// optional "title" or "category", optional example "questions" and
// "lang". SweFAQ's answers file has this shape.
func LoadDocuments(r io.Reader, name string) ([]classify.Document, error) {
	var docs []classify.Document
	err := scanJSONL(r, name, func(line []byte, where string) error {
		var d struct {
			AnswerID  string   `json:"answer_id"`
			ID        string   `json:"id"`
			Text      string   `json:"text"`
			Answer    string   `json:"answer"`
			Title     string   `json:"title"`
			Category  string   `json:"category"`
			Questions []string `json:"questions"`
			Lang      string   `json:"lang"`
		}
		if err := json.Unmarshal(line, &d); err != nil {
			return fmt.Errorf("%s: %w: %v", where, ErrBadRow, err)
		}
		doc := classify.Document{ID: first(d.AnswerID, d.ID), Answer: first(d.Text, d.Answer),
			Title: first(d.Title, d.Category), Questions: d.Questions, Lang: d.Lang}
		if doc.ID == "" || doc.Answer == "" {
			return fmt.Errorf("%s: %w: need an id and an answer text", where, ErrBadRow)
		}
		docs = append(docs, doc)
		return nil
	})
	return docs, err
}

// LoadDocumentsFile is LoadDocuments on a file.
func LoadDocumentsFile(path string) ([]classify.Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return LoadDocuments(f, path)
}

func first(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// scanJSONL calls fn for each non-blank line of r.
func scanJSONL(r io.Reader, name string, fn func(line []byte, where string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(trimSpace(line)) == 0 {
			continue
		}
		if err := fn(line, fmt.Sprintf("%s:%d", name, n)); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
