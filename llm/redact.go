package llm

import (
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

// Kinds of personal data the Redactor replaces, used in placeholders
// ("[EMAIL_1]") and in Redacted.Kinds.
const (
	KindEmail = "EMAIL"
	KindPhone = "PHONE"
	KindCard  = "CARD"
	KindIBAN  = "IBAN"
	KindID    = "ID" // national identity numbers
)

// Redacted is text with personal data replaced by placeholders such as
// "[EMAIL_1]", and what they stood for, so a model's output can be put
// back together in the process (Restore) without the data ever leaving it.
// Add redacts more text with the same numbering (one call's messages).
type Redacted struct {
	Text   string
	seen   map[string]string // original → placeholder
	values map[string]string // placeholder → original
	kinds  map[string]int
}

// Kinds counts the replaced values by kind.
func (r *Redacted) Kinds() map[string]int { return r.kinds }

// Restore puts the original values back in s (e.g. the model's output).
func (r *Redacted) Restore(s string) string {
	if len(r.values) == 0 {
		return s
	}
	pairs := make([]string, 0, 2*len(r.values))
	for ph, v := range r.values {
		pairs = append(pairs, ph, v)
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// detector finds one kind of personal data: re finds candidates, valid
// (if set) confirms them with a checksum or plausibility rule.
type detector struct {
	kind  string
	re    *regexp.Regexp
	valid func(match string) bool
}

// detectors run in order; later ones never see earlier placeholders.
var detectors = []detector{
	{KindEmail, regexp.MustCompile(`(?i)[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}`), nil},
	{KindIBAN, regexp.MustCompile(`\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b`), validIBAN},
	{KindID, regexp.MustCompile(`\b\d{13}\b`), func(s string) bool { return validJMBG(s) }},
	{KindCard, regexp.MustCompile(`\b(?:\d[ \-]?){12,18}\d\b`), func(s string) bool { return luhn(digitsOf(s)) }},
	{KindID, regexp.MustCompile(`\b\d{6} ?\d{5}\b`), func(s string) bool { return validFNR(digitsOf(s)) }},
	{KindID, regexp.MustCompile(`\b(?:(?:19|20)?\d{6}[-+]\d{4}|(?:19|20)\d{10})\b`), validPersonnummer},
	{KindID, regexp.MustCompile(`\b\d{3}[- ]\d{2}[- ]\d{4}\b`), validSSN},
	{KindPhone, regexp.MustCompile(`(?:\+|\b00)?\(?\d[\d ().\-/]{5,}\d\b`), validPhone},
}

// Redact replaces emails, phone numbers, card numbers (Luhn-checked),
// IBANs (mod-97-checked) and national identity numbers (Norwegian
// fødselsnummer, Swedish personnummer, Serbian JMBG — each with its check
// digits — and US SSNs) in text with numbered placeholders.
func Redact(text string) *Redacted {
	r := &Redacted{}
	r.Text = r.Add(text)
	return r
}

// Add redacts text, numbering placeholders after those already given; the
// same value gets the same placeholder.
func (r *Redacted) Add(text string) string {
	digits := 0
	for i := 0; i < len(text) && digits < 7; i++ {
		if text[i] >= '0' && text[i] <= '9' {
			digits++
		}
	}
	hasAt := strings.IndexByte(text, '@') >= 0
	for _, d := range detectors {
		if d.kind == KindEmail && !hasAt || d.kind != KindEmail && digits < 7 {
			continue // nothing this detector could find (every other kind has at least 7 digits)
		}
		text = d.re.ReplaceAllStringFunc(text, func(m string) string {
			core := strings.TrimRight(m, " ().-/")
			if d.valid != nil && !d.valid(core) {
				return m
			}
			ph, ok := r.seen[core]
			if !ok {
				if r.values == nil {
					r.seen, r.values, r.kinds = map[string]string{}, map[string]string{}, map[string]int{}
				}
				r.kinds[d.kind]++
				ph = fmt.Sprintf("[%s_%d]", d.kind, r.kinds[d.kind])
				r.seen[core] = ph
				r.values[ph] = core
			}
			return ph + m[len(core):]
		})
	}
	return text
}

func digitsOf(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// luhn checks the Luhn (mod 10) check digit of a digit string.
func luhn(d string) bool {
	if len(d) < 2 {
		return false
	}
	sum := 0
	for i := 0; i < len(d); i++ {
		n := int(d[len(d)-1-i] - '0')
		if i%2 == 1 {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
	}
	return sum%10 == 0
}

// validIBAN checks the ISO 13616 mod-97 checksum.
func validIBAN(s string) bool {
	s = strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	if len(s) < 15 || len(s) > 34 {
		return false
	}
	var b strings.Builder
	for _, r := range s[4:] + s[:4] {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			b.WriteString(strconv.Itoa(int(r-'A') + 10))
		default:
			return false
		}
	}
	n, ok := new(big.Int).SetString(b.String(), 10)
	return ok && new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}

// validFNR checks a Norwegian fødselsnummer (or D-/H-number): a plausible
// date and both mod-11 control digits.
func validFNR(d string) bool {
	if len(d) != 11 {
		return false
	}
	n := make([]int, 11)
	for i := range d {
		n[i] = int(d[i] - '0')
	}
	day, month := n[0]*10+n[1], n[2]*10+n[3]
	if day > 40 {
		day -= 40 // D-number
	}
	if month > 80 {
		month -= 80 // synthetic test numbers
	} else if month > 40 {
		month -= 40 // H-number
	}
	if day < 1 || day > 31 || month < 1 || month > 12 {
		return false
	}
	control := func(w []int, k int) bool {
		s := 0
		for i, x := range w {
			s += x * n[i]
		}
		c := 11 - s%11
		if c == 11 {
			c = 0
		}
		return c != 10 && c == n[k]
	}
	return control([]int{3, 7, 6, 1, 8, 9, 4, 5, 2}, 9) && control([]int{5, 4, 3, 2, 7, 6, 5, 4, 3, 2}, 10)
}

// validPersonnummer checks a Swedish personnummer (or samordningsnummer):
// YYMMDD-NNNC or YYYYMMDDNNNC, plausible date, Luhn check digit.
func validPersonnummer(s string) bool {
	d := digitsOf(s)
	if len(d) == 12 {
		d = d[2:]
	}
	if len(d) != 10 {
		return false
	}
	month, _ := strconv.Atoi(d[2:4])
	day, _ := strconv.Atoi(d[4:6])
	if day > 60 {
		day -= 60
	}
	return month >= 1 && month <= 12 && day >= 1 && day <= 31 && luhn(d)
}

// validJMBG checks a Serbian (Yugoslav) JMBG: DDMMYYYRRBBBK with a
// plausible date and the mod-11 control digit.
func validJMBG(d string) bool {
	if len(d) != 13 {
		return false
	}
	n := make([]int, 13)
	for i := range d {
		n[i] = int(d[i] - '0')
	}
	day, month := n[0]*10+n[1], n[2]*10+n[3]
	if day < 1 || day > 31 || month < 1 || month > 12 {
		return false
	}
	s := 7*(n[0]+n[6]) + 6*(n[1]+n[7]) + 5*(n[2]+n[8]) + 4*(n[3]+n[9]) + 3*(n[4]+n[10]) + 2*(n[5]+n[11])
	k := 11 - s%11
	if k > 9 {
		k = 0
	}
	return k == n[12]
}

// validSSN checks the US SSN rules: no area 000, 666 or 9xx, no group 00,
// no serial 0000.
func validSSN(s string) bool {
	d := digitsOf(s)
	if len(d) != 9 {
		return false
	}
	area, group, serial := d[:3], d[3:5], d[5:]
	return area != "000" && area != "666" && area[0] != '9' && group != "00" && serial != "0000"
}

var (
	isoDate = regexp.MustCompile(`^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$`)
	// idShape is what the ID and card detectors look at; a look-alike
	// that failed their check digits is not a phone number either.
	idShape = regexp.MustCompile(`^(?:\d{11}|\d{13}|\d{6} \d{5}|(?:19|20)?\d{6}[-+]\d{4}|\d{3}[- ]\d{2}[- ]\d{4}|(?:\d{4}[ \-]){3}\d{1,7})$`)
)

// validPhone accepts 7 to 10 digits, or up to 15 after "+" or "00", that
// do not look like a date or an identity or card number.
func validPhone(s string) bool {
	s = strings.TrimSpace(s)
	n := 0
	for _, r := range s {
		if unicode.IsDigit(r) {
			n++
		}
	}
	most := 10
	if strings.HasPrefix(s, "+") || strings.HasPrefix(s, "00") {
		most = 15
	}
	return n >= 7 && n <= most && !isoDate.MatchString(s) && !idShape.MatchString(s)
}
