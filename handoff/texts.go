package handoff

import (
	"fmt"
	"strings"
	"time"
)

// The customer-facing texts of the desk, in English, Norwegian Bokmål,
// Swedish and Serbian (Latin script; a channel may transliterate to
// Cyrillic). Placeholders in braces are filled by say. Texts are chosen by
// the conversation's language (lang), falling back to English.

type msgKey int

const (
	msgIntro msgKey = iota
	msgPosition
	msgNext
	msgETA
	msgNoETA
	msgLeaveHint
	msgLeaveLabel
	msgUpdate
	msgClosed
	msgKeepPlace
	msgAskContact
	msgContactThanks
	msgJoined
	msgReleased
	msgTransferredAgent
	msgTransferredSkill
	msgLeft
	msgResolved
	msgCSAT
	msgCSATComment
	msgCSATSkip
	msgCSATThanks
	msgCSATAlready
	msgWithAgent
)

var catalogue = map[string]map[msgKey]string{
	"en": {
		msgIntro:            "I'm connecting you with a person from our team. They will see this conversation, so you won't need to repeat yourself.",
		msgPosition:         "You are number {n} in the queue.",
		msgNext:             "You are next in the queue.",
		msgETA:              "Estimated wait: {eta}.",
		msgNoETA:            "I can't estimate the wait yet.",
		msgLeaveHint:        "Write \"cancel\" to leave the queue and continue with me.",
		msgLeaveLabel:       "Leave the queue",
		msgUpdate:           "Update: you are now number {n} in the queue.",
		msgClosed:           "Our team is offline right now. A person will answer {when}.",
		msgKeepPlace:        "You're in the queue and keep your place until then.",
		msgAskContact:       "If you'd rather not wait here, leave your email address or phone number and we'll get back to you.",
		msgContactThanks:    "Thank you! We'll contact you at {contact} as soon as we're open.",
		msgJoined:           "{name} has joined the conversation.",
		msgReleased:         "Your conversation is back in the queue, and you keep your place.",
		msgTransferredAgent: "{name} is taking over the conversation.",
		msgTransferredSkill: "I'm passing you to a colleague who can help you better.",
		msgLeft:             "You've left the queue. I'm here if you need anything else, and you can write \"human\" at any time to reach a person.",
		msgResolved:         "{name} has marked your question as resolved. If you need anything else, just write here.",
		msgCSAT:             "How did we do? Please rate this conversation from 1 (poor) to 5 (excellent).",
		msgCSATComment:      "Thank you! Is there anything you'd like to tell us? Write it in one message, or skip.",
		msgCSATSkip:         "No, thanks",
		msgCSATThanks:       "Thank you for your feedback!",
		msgCSATAlready:      "Thank you, we already have your rating.",
		msgWithAgent:        "{name} is helping you and has seen your messages.",
	},
	"nb": {
		msgIntro:            "Jeg setter deg i kontakt med en person fra teamet vårt. De ser denne samtalen, så du trenger ikke å gjenta noe.",
		msgPosition:         "Du er nummer {n} i køen.",
		msgNext:             "Du er nestemann i køen.",
		msgETA:              "Beregnet ventetid: {eta}.",
		msgNoETA:            "Jeg kan ikke anslå ventetiden ennå.",
		msgLeaveHint:        "Skriv «avbryt» for å forlate køen og fortsette med meg.",
		msgLeaveLabel:       "Forlat køen",
		msgUpdate:           "Oppdatering: du er nå nummer {n} i køen.",
		msgClosed:           "Teamet vårt er ikke på jobb akkurat nå. En person svarer deg {when}.",
		msgKeepPlace:        "Du står i køen og beholder plassen din til da.",
		msgAskContact:       "Hvis du ikke vil vente her, kan du legge igjen e-postadresse eller telefonnummer, så tar vi kontakt.",
		msgContactThanks:    "Takk! Vi kontakter deg på {contact} så snart vi åpner.",
		msgJoined:           "{name} er med i samtalen nå.",
		msgReleased:         "Samtalen din er tilbake i køen, og du beholder plassen din.",
		msgTransferredAgent: "{name} tar over samtalen.",
		msgTransferredSkill: "Jeg setter deg over til en kollega som kan hjelpe deg bedre.",
		msgLeft:             "Du har forlatt køen. Jeg er her hvis du trenger noe mer, og du kan skrive «menneske» når som helst for å snakke med en person.",
		msgResolved:         "{name} har markert saken din som løst. Trenger du noe mer, er det bare å skrive her.",
		msgCSAT:             "Hvordan gjorde vi det? Gi samtalen en karakter fra 1 (dårlig) til 5 (utmerket).",
		msgCSATComment:      "Takk! Er det noe du vil fortelle oss? Skriv det i én melding, eller hopp over.",
		msgCSATSkip:         "Nei takk",
		msgCSATThanks:       "Takk for tilbakemeldingen!",
		msgCSATAlready:      "Takk, vi har allerede fått vurderingen din.",
		msgWithAgent:        "{name} hjelper deg og har sett meldingene dine.",
	},
	"sv": {
		msgIntro:            "Jag kopplar dig till en person i vårt team. De ser den här konversationen, så du behöver inte upprepa något.",
		msgPosition:         "Du är nummer {n} i kön.",
		msgNext:             "Du är näst på tur i kön.",
		msgETA:              "Beräknad väntetid: {eta}.",
		msgNoETA:            "Jag kan inte uppskatta väntetiden än.",
		msgLeaveHint:        "Skriv ”avbryt” för att lämna kön och fortsätta med mig.",
		msgLeaveLabel:       "Lämna kön",
		msgUpdate:           "Uppdatering: du är nu nummer {n} i kön.",
		msgClosed:           "Vårt team är inte på plats just nu. En person svarar dig {when}.",
		msgKeepPlace:        "Du står kvar i kön och behåller din plats tills dess.",
		msgAskContact:       "Om du inte vill vänta här kan du lämna din e-postadress eller ditt telefonnummer, så hör vi av oss.",
		msgContactThanks:    "Tack! Vi kontaktar dig på {contact} så snart vi öppnar.",
		msgJoined:           "{name} är med i konversationen nu.",
		msgReleased:         "Din konversation är tillbaka i kön, och du behåller din plats.",
		msgTransferredAgent: "{name} tar över konversationen.",
		msgTransferredSkill: "Jag kopplar dig vidare till en kollega som kan hjälpa dig bättre.",
		msgLeft:             "Du har lämnat kön. Jag finns här om du behöver något mer, och du kan skriva ”människa” när som helst för att nå en person.",
		msgResolved:         "{name} har markerat ditt ärende som löst. Behöver du något mer är det bara att skriva här.",
		msgCSAT:             "Hur gjorde vi? Betygsätt konversationen från 1 (dåligt) till 5 (utmärkt).",
		msgCSATComment:      "Tack! Vill du berätta något mer för oss? Skriv det i ett meddelande, eller hoppa över.",
		msgCSATSkip:         "Nej tack",
		msgCSATThanks:       "Tack för din återkoppling!",
		msgCSATAlready:      "Tack, vi har redan fått ditt betyg.",
		msgWithAgent:        "{name} hjälper dig och har sett dina meddelanden.",
	},
	"sr": {
		msgIntro:            "Povezujem vas sa osobom iz našeg tima. Videće ovaj razgovor, tako da ne morate ništa da ponavljate.",
		msgPosition:         "Vi ste {n}. u redu.",
		msgNext:             "Vi ste sledeći na redu.",
		msgETA:              "Procenjeno čekanje: {eta}.",
		msgNoETA:            "Još ne mogu da procenim vreme čekanja.",
		msgLeaveHint:        "Napišite „otkaži” da napustite red i nastavite sa mnom.",
		msgLeaveLabel:       "Napusti red",
		msgUpdate:           "Novo: sada ste {n}. u redu.",
		msgClosed:           "Naš tim trenutno ne radi. Osoba će vam odgovoriti {when}.",
		msgKeepPlace:        "Do tada ostajete u redu i zadržavate svoje mesto.",
		msgAskContact:       "Ako ne želite da čekate ovde, ostavite imejl adresu ili broj telefona i javićemo vam se.",
		msgContactThanks:    "Hvala! Javićemo vam se na {contact} čim počnemo sa radom.",
		msgJoined:           "Sa vama je sada {name}.",
		msgReleased:         "Vaš razgovor je vraćen u red, a vi zadržavate svoje mesto.",
		msgTransferredAgent: "Razgovor preuzima {name}.",
		msgTransferredSkill: "Prebacujem vas kod kolege koji vam može bolje pomoći.",
		msgLeft:             "Napustili ste red. Tu sam ako vam još nešto treba, a u bilo kom trenutku možete da napišete „čovek” da biste razgovarali sa osobom.",
		msgResolved:         "Vaše pitanje je označeno kao rešeno ({name}). Ako vam još nešto treba, samo pišite ovde.",
		msgCSAT:             "Kako smo se snašli? Ocenite ovaj razgovor od 1 (loše) do 5 (odlično).",
		msgCSATComment:      "Hvala! Da li želite nešto da nam poručite? Napišite to u jednoj poruci ili preskočite.",
		msgCSATSkip:         "Ne, hvala",
		msgCSATThanks:       "Hvala na povratnoj informaciji!",
		msgCSATAlready:      "Hvala, već imamo vašu ocenu.",
		msgWithAgent:        "{name} vam pomaže i video je vaše poruke.",
	},
}

// textLang maps a conversation language to a catalogue language: Norwegian
// variants read Bokmål, Serbian, Croatian and Bosnian read Serbian Latin,
// anything else English.
func textLang(lang string) string {
	l := strings.ToLower(lang)
	if i := strings.IndexAny(l, "-_"); i >= 0 {
		l = l[:i]
	}
	switch l {
	case "nb", "no", "nn":
		return "nb"
	case "sv":
		return "sv"
	case "sr", "hr", "bs", "sh", "cnr":
		return "sr"
	}
	return "en"
}

// say returns the text of key in lang with the placeholders filled from
// pairs ("{n}", "2", …).
func say(lang string, key msgKey, pairs ...string) string {
	s, ok := catalogue[textLang(lang)][key]
	if !ok {
		s = catalogue["en"][key]
	}
	if len(pairs) > 0 {
		s = strings.NewReplacer(pairs...).Replace(s)
	}
	return s
}

// sayWait says how long a wait of d is, rounded up to whole minutes (hours
// past 90 minutes), in lang.
func sayWait(lang string, d time.Duration) string {
	mins := int((d + time.Minute - 1) / time.Minute)
	hours := (mins + 30) / 60
	l := textLang(lang)
	switch {
	case d < time.Minute:
		return map[string]string{"en": "less than a minute", "nb": "under ett minutt",
			"sv": "mindre än en minut", "sr": "manje od minuta"}[l]
	case mins <= 90:
		return about(l) + " " + plural(l, mins, unitMinute)
	default:
		return about(l) + " " + plural(l, hours, unitHour)
	}
}

func about(l string) string {
	return map[string]string{"en": "about", "nb": "omtrent", "sv": "ungefär", "sr": "oko"}[l]
}

type unit int

const (
	unitMinute unit = iota
	unitHour
)

// plural writes n with the unit in the right grammatical number.
func plural(l string, n int, u unit) string {
	type forms struct{ one, few, many string }
	f := map[string][2]forms{
		"en": {{"minute", "minutes", "minutes"}, {"hour", "hours", "hours"}},
		"nb": {{"minutt", "minutter", "minutter"}, {"time", "timer", "timer"}},
		"sv": {{"minut", "minuter", "minuter"}, {"timme", "timmar", "timmar"}},
		// Serbian: 1, 21, 31 … take the singular; 2–4, 22–24 … the paucal;
		// the rest the genitive plural ("oko" takes the genitive anyway).
		"sr": {{"minut", "minuta", "minuta"}, {"sat", "sata", "sati"}},
	}[l][u]
	word := f.many
	switch {
	case n == 1 || (l == "sr" && n%10 == 1 && n%100 != 11):
		word = f.one
	case l == "sr" && n%10 >= 2 && n%10 <= 4 && (n%100 < 12 || n%100 > 14):
		word = f.few
	}
	return fmt.Sprintf("%d %s", n, word)
}

var weekdays = map[string][7]string{
	"en": {"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
	"nb": {"søndag", "mandag", "tirsdag", "onsdag", "torsdag", "fredag", "lørdag"},
	"sv": {"söndag", "måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag"},
	// accusative, after "u"
	"sr": {"nedelju", "ponedeljak", "utorak", "sredu", "četvrtak", "petak", "subotu"},
}

var months = map[string][12]string{
	"en": {"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
	"nb": {"januar", "februar", "mars", "april", "mai", "juni", "juli", "august", "september", "oktober", "november", "desember"},
	"sv": {"januari", "februari", "mars", "april", "maj", "juni", "juli", "augusti", "september", "oktober", "november", "december"},
	// genitive, after the day number
	"sr": {"januara", "februara", "marta", "aprila", "maja", "juna", "jula", "avgusta", "septembra", "oktobra", "novembra", "decembra"},
}

// sayWhen says when at is, seen from now, in lang: "today at 09:00 (CET)",
// "tomorrow at 09:00 (CET)" or "on Monday 5 January at 09:00 (CET)". Both
// times are read in at's location.
func sayWhen(lang string, now, at time.Time) string {
	now = now.In(at.Location())
	l := textLang(lang)
	clock := at.Format("15:04")
	zone := at.Format("MST")
	y1, m1, d1 := now.Date()
	y2, m2, d2 := at.Date()
	days := max(0, int(time.Date(y2, m2, d2, 12, 0, 0, 0, time.UTC).Sub(time.Date(y1, m1, d1, 12, 0, 0, 0, time.UTC)).Hours()/24))
	wd, day, mon := weekdays[l][at.Weekday()], at.Day(), months[l][at.Month()-1]
	var s string
	switch l {
	case "nb":
		s = [...]string{"i dag", "i morgen"}[min(days, 1)]
		if days > 1 {
			s = fmt.Sprintf("%s %d. %s", wd, day, mon)
		}
		s += " kl. " + clock
	case "sv":
		s = [...]string{"i dag", "i morgon"}[min(days, 1)]
		if days > 1 {
			s = fmt.Sprintf("%s %d %s", wd, day, mon)
		}
		s += " kl. " + clock
	case "sr":
		s = [...]string{"danas", "sutra"}[min(days, 1)]
		if days > 1 {
			s = fmt.Sprintf("u %s, %d. %s,", wd, day, mon)
		}
		s += " u " + clock
	default:
		s = [...]string{"today", "tomorrow"}[min(days, 1)]
		if days > 1 {
			s = fmt.Sprintf("on %s %d %s", wd, day, mon)
		}
		s += " at " + clock
	}
	return s + " (" + zone + ")"
}
