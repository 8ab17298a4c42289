package llm

import (
	"strings"
	"testing"
)

// TestRedact lists every kind of personal data that must not leave the
// process, and look-alikes that must stay (they fail the check digits).
func TestRedact(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"email", "write me at ana.k+shop@example.co.uk please", "write me at [EMAIL_1] please"},
		{"phone international", "call +47 912 34 567 now", "call [PHONE_1] now"},
		{"phone US", "my number is (555) 123-4567.", "my number is [PHONE_1]."},
		{"phone Serbian", "pozovite +381 64 123 4567", "pozovite [PHONE_1]"},
		{"phone 00 prefix", "ring 0046 70 123 45 67", "ring [PHONE_1]"},
		{"card Visa spaced", "card 4111 1111 1111 1111 expired", "card [CARD_1] expired"},
		{"card Mastercard dashed", "5555-5555-5555-4444", "[CARD_1]"},
		{"card failing Luhn stays", "ref 4111 1111 1111 1112", "ref 4111 1111 1111 1112"},
		{"IBAN GB spaced", "IBAN GB82 WEST 1234 5698 7654 32 thanks", "IBAN [IBAN_1] thanks"},
		{"IBAN NO compact", "konto NO9386011117947", "konto [IBAN_1]"},
		{"IBAN RS", "račun RS35260005601001611379", "račun [IBAN_1]"},
		{"IBAN failing mod-97 stays", "GB82 WEST 1234 5698 7654 33", "GB82 WEST 1234 5698 7654 33"},
		{"Norwegian fødselsnummer", "fnr 15059012387", "fnr [ID_1]"},
		{"Norwegian fødselsnummer spaced", "fnr 311299 45616", "fnr [ID_1]"},
		{"Norwegian fødselsnummer bad control digits stays", "nr 15059012388", "nr 15059012388"},
		{"Swedish personnummer", "personnummer 811218-9876", "personnummer [ID_1]"},
		{"Swedish personnummer 12 digits", "pnr 19811218-9876", "pnr [ID_1]"},
		{"Swedish personnummer bad Luhn stays", "nr 811218-9875", "nr 811218-9875"},
		{"Serbian JMBG", "JMBG 0101990710016", "JMBG [ID_1]"},
		{"Serbian JMBG other", "матични 1503985712340", "матични [ID_1]"},
		{"JMBG bad control digit stays", "broj 0101990710017", "broj 0101990710017"},
		{"US SSN", "SSN 123-45-6789", "SSN [ID_1]"},
		{"US SSN area 666 stays", "666-12-3456", "666-12-3456"},
		{"US SSN area 000 stays", "000-12-3456", "000-12-3456"},
		{"order number stays", "order 48213 is late", "order 48213 is late"},
		{"date stays", "ordered on 2026-01-15", "ordered on 2026-01-15"},
		{"price stays", "it cost 1 299 kr", "it cost 1 299 kr"},
		{"same value same placeholder", "a@b.io and again a@b.io, also c@d.io", "[EMAIL_1] and again [EMAIL_1], also [EMAIL_2]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Redact(tc.in)
			if r.Text != tc.want {
				t.Fatalf("Redact(%q) = %q, want %q", tc.in, r.Text, tc.want)
			}
			if back := r.Restore(r.Text); back != tc.in {
				t.Errorf("Restore = %q, want the original %q", back, tc.in)
			}
		})
	}
}

func TestRedactKeepsNumberingAcrossMessages(t *testing.T) {
	r := &Redacted{}
	a := r.Add("mail a@b.io")
	b := r.Add("again a@b.io and 4111111111111111")
	if a != "mail [EMAIL_1]" || b != "again [EMAIL_1] and [CARD_1]" {
		t.Fatalf("got %q, %q", a, b)
	}
	if got := r.Restore("Sent to [EMAIL_1]."); got != "Sent to a@b.io." {
		t.Fatalf("Restore = %q", got)
	}
	if r.Kinds()[KindEmail] != 1 || r.Kinds()[KindCard] != 1 {
		t.Fatalf("kinds %v", r.Kinds())
	}
	if strings.Contains(a+b, "4111") {
		t.Fatal("card number leaked")
	}
}
