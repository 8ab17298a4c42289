package intents

// texts is the router's small message catalogue; Serbian is in Latin script
// and transliterated for customers who write Cyrillic.
var texts = map[string]map[string]string{
	"suggest": {
		"en": "I'm not quite sure what you mean. Did you mean one of these?",
		"nb": "Jeg er ikke helt sikker på hva du mener. Mente du en av disse?",
		"sv": "Jag är inte helt säker på vad du menar. Menade du något av detta?",
		"da": "Jeg er ikke helt sikker på, hvad du mener. Mente du en af disse?",
		"sr": "Nisam sasvim siguran šta mislite. Da li ste mislili na nešto od ovoga?",
		"de": "Ich bin nicht ganz sicher, was Sie meinen. Meinten Sie eines davon?",
		"fr": "Je ne suis pas sûr de comprendre. Vouliez-vous dire l'un de ceux-ci ?",
		"es": "No estoy seguro de entenderte. ¿Quisiste decir alguno de estos?",
	},
	"clarify": {
		"en": "Sorry that didn't help. Could you tell me a bit more about what you need? Or I can get you a person.",
		"nb": "Beklager at det ikke hjalp. Kan du fortelle litt mer om hva du trenger? Eller så kan jeg sette deg over til et menneske.",
		"sv": "Förlåt att det inte hjälpte. Kan du berätta lite mer om vad du behöver? Eller så kan jag koppla dig till en människa.",
		"da": "Beklager, at det ikke hjalp. Kan du fortælle lidt mere om, hvad du har brug for? Eller jeg kan sætte dig over til et menneske.",
		"sr": "Izvinite što to nije pomoglo. Možete li mi reći nešto više o tome šta vam treba? Ili vas mogu povezati sa čovekom.",
		"de": "Das hat leider nicht geholfen. Können Sie mir mehr erzählen? Oder ich verbinde Sie mit einem Menschen.",
		"fr": "Désolé que cela n'ait pas aidé. Pouvez-vous m'en dire plus ? Ou je peux vous passer une personne.",
		"es": "Siento que no haya ayudado. ¿Puedes contarme un poco más? O puedo pasarte con una persona.",
	},
	"human": {
		"en": "Talk to a person", "nb": "Snakk med et menneske", "sv": "Prata med en människa",
		"da": "Tal med et menneske", "sr": "Razgovor sa čovekom", "de": "Mit einem Menschen sprechen",
		"fr": "Parler à une personne", "es": "Hablar con una persona",
	},
	"fallback_lang": {
		"en": "(I don't have this answer in your language yet, so here it is in %s.)",
		"nb": "(Jeg har ikke dette svaret på norsk ennå, så her er det på %s.)",
		"sv": "(Jag har inte det här svaret på svenska än, så här är det på %s.)",
		"da": "(Jeg har ikke dette svar på dansk endnu, så her er det på %s.)",
		"sr": "(Ovaj odgovor još nemam na srpskom, pa evo ga na jeziku: %s.)",
		"de": "(Diese Antwort habe ich noch nicht auf Deutsch, hier ist sie auf %s.)",
		"fr": "(Je n'ai pas encore cette réponse en français, la voici en %s.)",
		"es": "(Aún no tengo esta respuesta en español; aquí está en %s.)",
	},
	"notice": {
		"en": "Known issue: %s", "nb": "Kjent problem: %s", "sv": "Känt problem: %s", "da": "Kendt problem: %s",
		"sr": "Poznat problem: %s", "de": "Bekanntes Problem: %s", "fr": "Problème connu : %s", "es": "Problema conocido: %s",
	},
}

var langNames = map[string]string{
	"en": "English", "nb": "norsk", "sv": "svenska", "da": "dansk", "sr": "srpski",
	"de": "Deutsch", "fr": "français", "es": "español",
}

// text returns catalogue entry key in lang, falling back to English.
func text(key, lang string) string {
	if s, ok := texts[key][lang]; ok {
		return s
	}
	return texts[key]["en"]
}
