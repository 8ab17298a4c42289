package nlp

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"testing"
)

func TestScratch(t *testing.T) {
	d := NewDetector(nil)
	for _, s := range []string{"ok", "hi", "hei", "tack", "hvor lang tid tar frakten?", "hur lång tid tar frakten?", "Zdravo, zaboravio sam lozinku", "how long does shipping take?", "Здраво, заборавио сам лозинку", "како да вратим производ", "Hvor lang tid tager fragten?", "Wie lange dauert der Versand?", "Combien de temps prend la livraison?", "¿Cuánto tarda el envío?"} {
		l, c := d.Detect(s)
		fmt.Printf("%-40q %s %.3f\n", s, l, c)
	}
	for _, lang := range []string{"en", "nb", "sr"} {
		f, err := os.Open("/work/shared/data/xsid-" + lang + "-val.jsonl")
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		ok, n := 0, 0
		conf := map[string]int{}
		for sc.Scan() {
			var r struct{ Text string }
			json.Unmarshal(sc.Bytes(), &r)
			l, _ := d.Detect(r.Text)
			n++
			if l == lang {
				ok++
			} else {
				conf[l]++
				if conf[l] < 6 { fmt.Println(lang, l, r.Text) }
			}
		}
		fmt.Println(lang, ok, n, float64(ok)/float64(n), conf)
	}
}
