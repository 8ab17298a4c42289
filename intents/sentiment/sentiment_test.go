package sentiment

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/supportbot/supportbot/intents/nlp"
)

func TestAnalyze(t *testing.T) {
	tests := []struct {
		text                  string
		label                 string
		complaint, frustrated bool
		cue                   string // one of the cues expected, if not ""
	}{
		// Neutral questions, also with words that sound bad.
		{"Where is my order?", Neutral, false, false, ""},
		{"How do I cancel my order?", Neutral, false, false, ""},
		{"How do I report a problem with the app?", Neutral, false, false, ""},
		{"Can I add another manager to our team account?", Neutral, false, false, ""},
		{"How do I close my account?", Neutral, false, false, ""},
		{"Kan jeg bestille igjen med samme rabattkode?", Neutral, false, false, ""},
		{"Да ли могу да вратим производ ако сам отворио кутију?", Neutral, false, false, ""},
		{"Želim da razgovaram sa nekim na srpskom.", Neutral, false, false, ""},
		// Negation.
		{"not bad at all, works fine", Positive, false, false, "not bad"},
		{"Ikke dårlig, den fungerer fint.", Positive, false, false, "ikke dårlig"},
		{"Inte dåligt alls, den fungerar bra.", Positive, false, false, "inte dåligt"},
		{"Nije loše, radi kako treba.", Positive, false, false, "nije loše"},
		{"Није лоше, ради како треба.", Positive, false, false, "nije loše"},
		{"I'm not happy with this at all.", Negative, false, false, "not happy"},
		{"Jeg er ikke fornøyd med varen.", Negative, false, false, "ikke fornøyd"},
		{"Nisam zadovoljan uslugom.", Negative, false, false, "nisam zadovolj*"},
		{"No complaints, thanks!", Positive, false, false, "no complaint*"},
		// Complaints, in every language and script.
		{"I want to complain about the courier.", Negative, true, false, "complain*"},
		{"Jeg vil klage på leveransen.", Negative, true, false, "klage"},
		{"Jag vill lämna ett klagomål.", Negative, true, false, "klagomål*"},
		{"Želim da uložim žalbu.", Negative, true, false, "žalbu"},
		{"Желим да уложим жалбу.", Negative, true, false, "žalbu"},
		{"Подносим рекламацију за телевизор.", Negative, true, false, "reklamaciju"},
		{"Ich möchte mich beschweren.", Negative, true, false, "beschwer*"},
		{"Je veux déposer une plainte.", Negative, true, false, "plainte*"},
		{"Quiero poner una queja.", Negative, true, false, "queja*"},
		{"Let me speak to your manager.", Negative, true, false, "speak~manager"},
		{"This is a scam.", Negative, true, false, "scam*"},
		{"Worst service ever, unacceptable.", Negative, true, false, "worst"},
		// Frustration.
		{"This is the 3rd time I'm writing about this", Negative, false, true, "3rd time"},
		{"Dette er tredje gang jeg skriver", Negative, false, true, "tredje gang"},
		{"I STILL haven't got my refund", Negative, false, true, "STILL HAVENT"},
		{"WHY DOES NOTHING WORK", Negative, false, true, "CAPS"},
		{"where is my refund?!", Neutral, false, false, "!!"},
		{"This is ridiculous!!!", Negative, true, true, "ridiculous"},
		{"Koliko puta moram da ponavljam?", Negative, false, true, "koliko puta"},
		{"Опет не ради, доста ми је.", Negative, false, true, "dosta mi je"},
		{"Die App ist schon wieder abgestürzt.", Negative, false, true, "schon wieder"},
		// Positive.
		{"Thanks, that solved it!", Positive, false, false, "solved"},
		{"Tusen takk, kjempebra hjelp!", Positive, false, false, "kjempebra"},
		{"Хвала, одлична услуга!", Positive, false, false, "odličn*"},
		{"Great service 👍", Positive, false, false, "great"},
		{"Is the premium plan good for teams?", Neutral, false, false, ""},
	}
	for _, tt := range tests {
		got := Analyze(tt.text)
		if got.Label != tt.label || got.Complaint != tt.complaint || got.Frustrated != tt.frustrated {
			t.Errorf("Analyze(%q) = %s (%.2f) complaint=%v frustrated=%v %q; want %s complaint=%v frustrated=%v",
				tt.text, got.Label, got.Score, got.Complaint, got.Frustrated, got.Cues, tt.label, tt.complaint, tt.frustrated)
		}
		if tt.cue != "" && !slices.Contains(got.Cues, tt.cue) {
			t.Errorf("Analyze(%q).Cues = %q, want %q among them", tt.text, got.Cues, tt.cue)
		}
	}
}

// TestScripts checks that Serbian scores the same in both scripts.
func TestScripts(t *testing.T) {
	for _, p := range [][2]string{
		{"Ово је превара, хоћу да разговарам са менаџером!", "Ovo je prevara, hoću da razgovaram sa menadžerom!"},
		{"Још увек ништа, ово је неприхватљиво.", "Još uvek ništa, ovo je neprihvatljivo."},
		{"Хвала, баш сте љубазни.", "Hvala, baš ste ljubazni."},
	} {
		c, l := Analyze(p[0]), Analyze(p[1])
		if c.Score != l.Score || c.Complaint != l.Complaint || c.Frustrated != l.Frustrated {
			t.Errorf("Cyrillic %q = %+v, Latin %q = %+v", p[0], c, p[1], l)
		}
	}
}

// TestNoCollisions runs common words of each language through Analyze:
// none may move the score or raise a flag. Folding diacritics and pooling languages
// makes words meet that should not ("nå" and Serbian "na").
func TestNoCollisions(t *testing.T) {
	common := []string{
		// en
		"the a an and or of to in on at for with from by about as is are was were be been have has had do does did i you he she it we they my your our their this that what which who when where why how can could would should will shall may might must order orders package parcel delivery shipping return refund cancel account password problem issue question help please hi hello item size colour color price invoice card payment address email app website store product warranty manager team plan today tomorrow week day time best way total cost",
		// nb da
		"og i jeg det at en et den til er som på de med han av for ikke der var meg seg men har om vi min mitt hva hvor hvordan når kan skal vil må fra så nå ja nei bestilling ordre pakke levering frakt retur refusjon konto passord problem spørsmål hjelp vare størrelse farge pris faktura kort betaling adresse butikk produkt garanti klasse leder gang tid dag uke hvad hvornår også",
		// sv
		"och att det som en på är av för med till den har de inte om ett han men var jag sig från vi så kan man när nu ja nej hur vad var vilken beställning order paket leverans frakt retur återbetalning konto lösenord problem fråga hjälp vara storlek färg pris faktura kort betalning adress butik produkt garanti ni er gång tid dag vecka",
		// sr
		"i u je da se na za ne od sa što su kao iz ali bi o a po to sam si smo ste ja ti on ona mi vi oni ovo ono taj kako gde kada zašto koliko da li mogu može sad sada malo mala pa porudžbina paket dostava povraćaj novac nalog lozinka problem pitanje pomoć proizvod veličina boja cena račun kartica plaćanje adresa prodavnica garancija put dan nedelja",
		// de
		"der die das und in zu den von mit sich des auf für ist im dem nicht ein eine als auch es an er so dass kann wie wo wann warum bestellung paket lieferung versand rückgabe konto passwort problem frage hilfe artikel größe farbe preis rechnung karte zahlung adresse produkt garantie mal noch fast",
		// fr
		"le la les de des du un une et à en est que qui dans pour pas sur au avec ce il elle nous vous ils je tu mon ma mes comment où quand pourquoi commande colis livraison retour remboursement compte mot problème question aide article taille couleur prix facture carte paiement adresse produit garantie fin bas content",
		// es
		"el la los las de del un una y en es que por para con no se su al lo como más pero sus le ya o este mi tu dónde cuándo cómo por qué pedido paquete envío devolución reembolso cuenta contraseña problema pregunta ayuda artículo talla color precio factura tarjeta pago dirección tienda producto garantía",
	}
	for _, list := range common {
		for _, w := range strings.Fields(list) {
			if r := Analyze(w); r.Score != 0 || r.Complaint || r.Frustrated {
				t.Errorf("common word %q is a cue: %q", w, r.Cues)
			}
		}
	}
}

func TestAnalyzeEdgeCases(t *testing.T) {
	for _, s := range []string{"", " ", "!!!", "???", "\x00\x00", "\xff\xfe", strings.Repeat("a", 100<<10), "😡", "ÅÄÖ", "123"} {
		r := Analyze(s)
		if r.Score < -1 || r.Score > 1 || (r.Label != Negative && r.Label != Neutral && r.Label != Positive) {
			t.Errorf("Analyze(%.20q) = %+v", s, r)
		}
	}
	if r := Analyze(strings.Repeat("terrible ", 20000)); r.Label != Negative {
		t.Errorf("long negative text: %s", r.Label)
	}
}

// TestResultJSON keeps Result usable on the wire (agent cards, logs).
func TestResultJSON(t *testing.T) {
	b, err := json.Marshal(Analyze("worst"))
	if err != nil || !strings.Contains(string(b), `"Label":"negative"`) {
		t.Fatalf("%s %v", b, err)
	}
}

// TestFold checks the fast fold against nlp.Normalize on the labelled set.
func TestFold(t *testing.T) {
	for _, r := range loadRows(t) {
		if a, b := tokenWords(fold(r.Text)), tokenWords(nlp.Normalize(r.Text)); !slices.Equal(a, b) {
			t.Errorf("fold and nlp.Normalize disagree on %q:\n%q\n%q", r.Text, a, b)
		}
	}
}

// TestFoldRunes checks every rune of the fold table between two letters.
func TestFoldRunes(t *testing.T) {
	for r := rune(0); r < foldLimit; r++ {
		s := "a" + string(r) + "b Ж" + string(r) + "и"
		if a, b := tokenWords(fold(s)), tokenWords(nlp.Normalize(s)); !slices.Equal(a, b) {
			t.Errorf("U+%04X: fold %q, nlp.Normalize %q", r, a, b)
		}
	}
}

func tokenWords(s string) []string {
	toks, _ := tokenize(s, nil, nil)
	var out []string
	for _, t := range toks {
		out = append(out, t.w)
	}
	return out
}

func FuzzAnalyze(f *testing.F) {
	f.Add("Where is my order?")
	f.Add("ЈОШ УВЕК НИШТА!!! 😡")
	f.Add("not bad \x00 \xff\xfe ikke dårlig")
	f.Add(strings.Repeat("still not ", 10<<10)) // 100 KB
	f.Add("и\u0306 a\u00a8b a\u00adb ǅ ﬀ Ǆ")
	f.Fuzz(func(t *testing.T, s string) {
		r := Analyze(s)
		if r.Score < -1 || r.Score > 1 || r.Score != r.Score {
			t.Fatalf("score %v", r.Score)
		}
		switch r.Label {
		case Negative, Neutral, Positive:
		default:
			t.Fatalf("label %q", r.Label)
		}
		if a, b := tokenWords(fold(s)), tokenWords(nlp.Normalize(s)); !slices.Equal(a, b) {
			t.Fatalf("fold and nlp.Normalize disagree on %q:\n%q\n%q", s, a, b)
		}
		for _, c := range r.Cues {
			if !utf8.ValidString(c) {
				t.Fatalf("invalid cue %q", c)
			}
		}
	})
}

func BenchmarkAnalyze(b *testing.B) {
	for _, m := range []struct{ name, text string }{
		{"en", "Where is my order? I ordered it last week."},
		{"nb", "Jeg har FORTSATT ikke fått pakken, og ingen svarer på e-postene mine!!!"},
		{"sr-Cyrl", "Ово је трећи пут да пишем, желим да уложим жалбу."},
		{"sv", "Tack så mycket, det löste problemet!"},
	} {
		b.Run(m.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Analyze(m.text)
			}
		})
	}
}
