package nlp

// builtinProfiles are the compact language profiles every Detector starts
// from: frequent words (function words, and the verbs and nouns a support
// or assistant chat is made of) and a few sentences of running text. The
// detector derives word and character n-gram statistics from them at
// construction; knowledge-base examples add to them at run time.
//
// Serbian is written here in Latin script; Cyrillic input is transliterated
// before scoring, so one profile serves both scripts.
var builtinProfiles = map[string]struct{ words, text string }{
	"en": {
		words: `the a an and or but of to in on at for with from by about as into is are was were be been
			being am do does did have has had i you he she it we they me him her us them my your his its our
			their this that these those what which who whom whose when where why how not no yes can could will
			would shall should may might must if then than so just also only very too more most some any all
			there here up out over after before again please thanks thank hello hi hey help need want get got
			make find show tell give send set play book cancel change check order account password card money
			refund delivery shipping price time today tomorrow tonight morning evening week day hour minutes
			weather remind reminder alarm music song movie restaurant table`,
		text: `How long does shipping take? I forgot my password and I cannot log in to my account.
			Can you help me return a product I bought last week? What is the weather like today in the city?
			Please set an alarm for seven in the morning. I would like to book a table for two people tonight.
			Where is my order? It has not arrived yet. Show me the movies playing near me this evening.
			Why was my card declined? I want to cancel my subscription and get a refund.
			It is cold and wet outside today, and there will be rain and wind tomorrow, maybe snow in the hills.
			What does it cost to send a parcel to London? I did not get any receipt by email.
			Turn on the light in the living room, play some calm music and add this song to my playlist.
			Can I change the delivery address after I have paid? I live in a flat on the third floor.
			Find a cinema nearby that shows something funny, and tell me if there are tickets left.
			Give me an overview of my invoices from last year. I do not understand why the amount is so high.`,
	},
	"nb": {
		words: `og i jeg det at en et ei den til er som på de med han av ikke der så var meg seg men
			har om vi min mitt mine du deg din ditt dine hva hvordan hvorfor hvem hvilken hvilke hvor når
			kan vil skal må kunne ville skulle blir bli ble være vært noen noe ingen alle også bare etter
			fra uten mellom under over ut opp inn ned nå her da nei ja takk hei hjelp trenger ønsker få
			fikk gjøre finn vis si gi send sett spill bestill avbestill slett endre sjekk kjøpe betale
			bestilling konto passord kort penger pengene refusjon levering frakt frakten pris tid dag
			dager i dag morgen kveld uke uka neste klokka klokken time timer minutter vær været
			påminnelse alarm musikk sang film restaurant bord hvilket mye lenge lang`,
		text: `Hvor lang tid tar frakten? Jeg har glemt passordet mitt og kommer ikke inn på kontoen min.
			Kan du hjelpe meg med å returnere en vare jeg kjøpte forrige uke? Hvordan blir været i dag?
			Vekk meg klokka sju i morgen tidlig. Jeg vil gjerne bestille et bord til to personer i kveld.
			Hvor er bestillingen min? Den har ikke kommet ennå. Vis meg hvilke filmer som går i nærheten.
			Hvorfor ble kortet mitt avvist? Jeg ønsker å si opp abonnementet og få pengene tilbake.
			Det er kaldt og fuktig ute i dag, og det blir regn og vind i morgen, kanskje snø i fjellet.
			Hva koster det å sende en pakke til Bergen? Jeg fikk ikke noen kvittering på e-post.
			Skru på lyset i stua, spill noe rolig musikk og legg til denne sangen i spillelista mi.
			Kan jeg endre leveringsadressen etter at jeg har betalt? Jeg bor i en leilighet i tredje etasje.
			Finn en kino i nærheten som viser noe morsomt, og si fra hvis det er ledige billetter.
			Gi meg en oversikt over fakturaene mine fra i fjor. Jeg skjønner ikke hvorfor beløpet er så høyt.`,
	},
	"da": {
		words: `og i jeg det at en et den til er som på de med han af ikke der så var mig sig men
			har om vi min mit mine du dig din dit dine hvad hvordan hvorfor hvem hvilken hvilke hvor hvornår
			kan vil skal må kunne ville skulle bliver blive blev være været nogen noget ingen alle også kun
			efter fra uden mellem under over ud op ind ned nu her da nej ja tak hej hjælp har brug ønsker
			få fik gøre find vis sig giv send sæt spil bestil aflys slet ændre tjek købe betale bestilling
			konto adgangskode kodeord kort penge pengene refusion levering fragt fragten pris tid dag dage
			i dag morgen aften uge ugen næste klokken time timer minutter vejr vejret påmindelse alarm
			musik sang film restaurant bord meget længe lang`,
		text: `Hvor lang tid tager fragten? Jeg har glemt min adgangskode og kan ikke logge ind på min konto.
			Kan du hjælpe mig med at returnere en vare, jeg købte i sidste uge? Hvordan bliver vejret i dag?
			Væk mig klokken syv i morgen tidlig. Jeg vil gerne bestille et bord til to personer i aften.
			Hvor er min bestilling? Den er ikke kommet endnu. Vis mig hvilke film der går i nærheden.
			Hvorfor blev mit kort afvist? Jeg ønsker at opsige abonnementet og få pengene tilbage.
			Det er koldt og fugtigt udenfor i dag, og det bliver regn og blæst i morgen, måske sne i bjergene.
			Hvad koster det at sende en pakke til Aarhus? Jeg fik ikke nogen kvittering på e-mail.
			Tænd lyset i stuen, spil noget rolig musik og tilføj denne sang til min playliste.
			Kan jeg ændre leveringsadressen efter at jeg har betalt? Jeg bor i en lejlighed på tredje sal.
			Find en biograf i nærheden, som viser noget sjovt, og sig til hvis der er ledige billetter.
			Giv mig et overblik over mine fakturaer fra sidste år. Jeg forstår ikke hvorfor beløbet er så højt.`,
	},
	"sv": {
		words: `och i jag det att en ett den till är som på de med han av inte där så var mig sig men
			har om vi min mitt mina du dig din ditt dina vad hur varför vem vilken vilka var när kan vill
			ska måste kunna vilja skulle blir bli blev vara varit någon något ingen alla också bara efter
			från utan mellan under över ut upp in ner nu här då nej ja tack hej hjälp behöver önskar få fick
			göra hitta visa säg ge skicka ställ spela boka avboka ta bort radera ändra kolla köpa betala
			beställning konto lösenord kort pengar pengarna återbetalning leverans frakt frakten pris tid dag
			dagar idag i morgon kväll vecka veckan nästa klockan timme timmar minuter väder vädret
			påminnelse larm musik låt film restaurang bord mycket länge lång`,
		text: `Hur lång tid tar frakten? Jag har glömt mitt lösenord och kan inte logga in på mitt konto.
			Kan du hjälpa mig att returnera en vara jag köpte förra veckan? Hur blir vädret i dag?
			Väck mig klockan sju i morgon bitti. Jag vill gärna boka ett bord för två personer i kväll.
			Var är min beställning? Den har inte kommit än. Visa mig vilka filmer som går i närheten.
			Varför nekades mitt kort? Jag vill säga upp abonnemanget och få tillbaka pengarna.
			Det är kallt och fuktigt ute i dag, och det blir regn och blåst i morgon, kanske snö i fjällen.
			Vad kostar det att skicka ett paket till Göteborg? Jag fick inget kvitto på mejlen.
			Tänd lampan i vardagsrummet, spela lugn musik och lägg till den här låten i min spellista.
			Kan jag ändra leveransadressen efter att jag har betalat? Jag bor i en lägenhet på tredje våningen.
			Hitta en bio i närheten som visar något roligt, och säg till om det finns lediga biljetter.
			Ge mig en översikt över mina fakturor från förra året. Jag förstår inte varför beloppet är så högt.`,
	},
	"sr": {
		words: `da li je se sam si smo ste su i u na za od do sa s iz o po kod koji koja koje šta što kako
			gde kada kad zašto koliko mi me ti te on ona ono oni mogu možeš može možete hoću hoćeš želim
			treba trebam molim hvala zdravo ćao ne nije nisam nema bilo biti bio bila će ću ćeš ćemo ovaj
			ova ovo taj ta to moj moja moje moju tvoj svoj sve svi danas sutra juče jutro ujutru uveče
			popodne sat sati minut minuta nedelja nedelje vreme lozinka lozinku zaboravio zaboravila
			porudžbina porudžbinu isporuka dostava proizvod vratim novac račun nalog pomoć kupiti platiti
			kartica cena pošalji pronađi nađi pokaži prikaži pusti podesi otkaži obriši dodaj postavi
			napravi reci rezerviši podsetnik alarm muzika pesmu film restoran sto posle pre već još samo`,
		text: `Koliko traje dostava? Zaboravio sam lozinku i ne mogu da se prijavim na svoj nalog.
			Da li možeš da mi pomogneš da vratim proizvod koji sam kupio prošle nedelje? Kakvo će biti vreme danas?
			Probudi me u sedam sati ujutru. Želim da rezervišem sto za dve osobe večeras.
			Gde je moja porudžbina? Još nije stigla. Pokaži mi koji filmovi se prikazuju u blizini.
			Zašto je moja kartica odbijena? Hoću da otkažem pretplatu i da mi vratite novac.
			Danas je hladno i vlažno napolju, a sutra će biti kiše i vetra, možda i snega na planini.
			Koliko košta slanje paketa u Novi Sad? Nisam dobio nikakvu potvrdu na mejl.
			Upali svetlo u dnevnoj sobi, pusti neku mirnu muziku i dodaj ovu pesmu na moju listu.
			Mogu li da promenim adresu za isporuku nakon što sam platio? Živim u stanu na trećem spratu.
			Nađi bioskop u blizini koji prikazuje nešto zabavno i javi mi ako ima slobodnih karata.
			Daj mi pregled mojih računa od prošle godine. Ne razumem zašto je iznos toliko visok.`,
	},
	"de": {
		words: `der die das und in den von zu mit sich des auf für ist im dem nicht ein eine als auch es an
			werden aus er hat dass sie nach wird bei einer um am sind noch wie einem über einen so zum war
			haben nur oder aber vor zur bis mehr durch man kann ich mich mir du dich dir wir uns ihr mein
			meine meinen was warum wer wo wann welche bitte danke hallo hilfe brauche möchte will bestellen
			stornieren ändern zeigen finden senden spielen stellen konto passwort karte geld rückerstattung
			lieferung versand preis zeit heute morgen abend woche tag stunde minuten wetter erinnerung wecker`,
		text: `Wie lange dauert der Versand? Ich habe mein Passwort vergessen und kann mich nicht anmelden.
			Kannst du mir helfen, ein Produkt zurückzugeben, das ich letzte Woche gekauft habe? Wie wird das Wetter heute?
			Stell einen Wecker für sieben Uhr morgens. Ich möchte heute Abend einen Tisch für zwei Personen reservieren.
			Wo ist meine Bestellung? Sie ist noch nicht angekommen. Warum wurde meine Karte abgelehnt?`,
	},
	"fr": {
		words: `le la les de des du un une et à en au aux ce cette ces que qui quoi quand où comment pourquoi
			combien est sont être avoir ai as a avons avez ont je tu il elle nous vous ils elles me te se moi
			toi mon ma mes ton ta tes son sa ses notre votre leur pas ne plus pour par sur dans avec sans sous
			mais ou donc car si oui non merci bonjour salut aide besoin veux voudrais peux pouvez commander
			annuler changer montrer trouver envoyer jouer compte mot passe carte argent remboursement livraison
			prix temps aujourd'hui demain soir semaine jour heure minutes météo rappel réveil`,
		text: `Combien de temps prend la livraison ? J'ai oublié mon mot de passe et je ne peux pas me connecter.
			Pouvez-vous m'aider à retourner un produit acheté la semaine dernière ? Quel temps fera-t-il aujourd'hui ?
			Mets un réveil à sept heures du matin. Je voudrais réserver une table pour deux personnes ce soir.
			Où est ma commande ? Elle n'est pas encore arrivée. Pourquoi ma carte a-t-elle été refusée ?`,
	},
	"es": {
		words: `el la los las de del un una unos unas y o a al en que qué cuál cuándo dónde cómo por porque
			para con sin sobre es son está están ser estar hay he has ha hemos yo tú él ella nosotros ustedes
			ellos me te se mi mis tu tus su sus nuestro no sí más pero muy también ya hola gracias ayuda
			necesito quiero puedo puede pedir cancelar cambiar mostrar encontrar enviar poner reproducir cuenta
			contraseña tarjeta dinero reembolso entrega envío precio tiempo hoy mañana noche semana día hora
			minutos clima recordatorio alarma`,
		text: `¿Cuánto tarda el envío? Olvidé mi contraseña y no puedo iniciar sesión en mi cuenta.
			¿Puedes ayudarme a devolver un producto que compré la semana pasada? ¿Qué tiempo hará hoy?
			Pon una alarma a las siete de la mañana. Quiero reservar una mesa para dos personas esta noche.
			¿Dónde está mi pedido? Todavía no ha llegado. ¿Por qué rechazaron mi tarjeta?`,
	},
}
