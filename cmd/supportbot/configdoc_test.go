package main

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/supportbot/supportbot/internal/conf"
)

// tomlKeys lists the dotted keys of every field of t that a file can set.
func tomlKeys(t reflect.Type, prefix string) []string {
	var keys []string
	for i := range t.NumField() {
		f := t.Field(i)
		tag := strings.Split(f.Tag.Get("toml"), ",")[0]
		if tag == "" || tag == "-" || !f.IsExported() {
			continue
		}
		key := prefix + tag
		ft := f.Type
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[conf.Duration]() && ft.NumField() > 1 {
			keys = append(keys, tomlKeys(ft, key+".")...)
			continue
		}
		keys = append(keys, key)
	}
	return keys
}

// config.toml documents every key the loader accepts, and is itself valid.
func TestConfigTOMLDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile("../../config.toml")
	if err != nil {
		t.Fatal(err)
	}
	var c Config
	if err := conf.Decode("config.toml", data, &c); err != nil {
		t.Fatalf("the shipped config.toml does not load: %v", err)
	}
	text := string(data)
	table := ""
	documented := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		l := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "#"))
		if strings.HasPrefix(l, "[") {
			table = strings.Trim(strings.Fields(l)[0], "[]")
			documented[table] = true
			continue
		}
		if k, _, ok := strings.Cut(l, "="); ok && !strings.ContainsAny(strings.TrimSpace(k), " \"") {
			documented[table+"."+strings.TrimSpace(k)] = true
		}
	}
	for _, k := range tomlKeys(reflect.TypeFor[Config](), "") {
		if !documented[k] {
			t.Errorf("config.toml does not document %s", k)
		}
	}
}
