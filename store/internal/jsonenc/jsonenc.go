// Package jsonenc is the stores' JSON encoder: json.Marshal done by
// goccy/go-json, which writes the bytes encoding/json writes (the tests
// check every type the stores write) in about a third of the time and a
// sixth of the allocations. Every turn encodes its record, messages,
// replies and events. Decoding stays with encoding/json.
package jsonenc

import gojson "github.com/goccy/go-json"

// Marshal is json.Marshal.
func Marshal(v any) ([]byte, error) { return gojson.Marshal(v) }
