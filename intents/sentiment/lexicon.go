package sentiment

// The lexicon: every cue the analyser knows, all languages together, so a
// message that mixes languages (or is detected wrongly) still scores.
//
// Each group gives the weights its phrases add when they match:
//
//	val   valence, negative for bad news (about -0.7 mild, -1.2 strong)
//	frus  frustration; a message is Frustrated from 1.0
//	comp  complaint; a message is a Complaint from 1.0, or from 0.5 when
//	      its Score is clearly negative as well
//
// Phrase syntax: one phrase per comma; a line may start with a language
// code ("nb:"), which only documents it. Words separated by a space must be
// adjacent; "~" between two words allows up to three words in between
// ("speak~manager" matches "speak to a manager"). A word ending in "*"
// matches any word that starts with it. Phrases are written in their
// natural spelling (Cyrillic need not be listed: Serbian is matched in Latin
// script) and folded with nlp.Normalize when the package loads, so "dårlig"
// matches "DÅRLIG" and "darlig", and "žalba" matches "жалба".
//
// Folding and pooling the languages make words collide: Norwegian "nå"
// (now) folds to Serbian "na" (on), "så" to "sa" (with), Spanish "mala"
// (bad) is Serbian "mala" (small), English "sad" is Serbian "sad" (now).
// Such words are left out or only used inside longer phrases;
// TestNoCollisions keeps common words of each language cue-free.
var lexicon = []group{
	// Mild negative evaluation.
	{val: -0.7, phrases: `
		en: bad, poor, disappointed, disappointing, disappointment, slow, confusing, unhappy, dissatisfied, upset, not impressed, mediocre, meh
		nb: dårlig, dårlige, dårlige, skuffet, skuffa, skuffende, skuffelse, treg, tregt, forvirrende, misfornøyd, kjip, kjipt, trist
		sv: dålig, dåligt, dåliga, besviken, besviket, besvikna, besvikelse, långsam, långsamt, jättelångsam, förvirrande, missnöjd, tråkigt
		da: dårligt, skuffende, langsom, utilfreds
		sr: loše, loša, loši, lošeg, lošu, lošem, razočaran*, sporo, zbunjuj*, nezadovolj*
		de: schlecht*, enttäusch*, langsam, unzufrieden, verwirrend
		fr: mauvais*, déçu, déçue, déçus, décevant*, déception, lent, lente, mécontent*
		es: está mal, muy mal, salió mal, qué mal, decepcionad*, decepción, lento, lenta, insatisfech*`},
	// Strong negative evaluation.
	{val: -1.2, comp: 0.3, phrases: `
		en: terrible, awful, horrible, horrendous, useless, rubbish, garbage, pathetic, disgusting, dreadful, hate, appalling, incompetent*
		nb: elendig, elendige, forferdelig, fryktelig, grusom, grusomt, ubrukelig, hater, håpløs*, inkompetent*
		sv: usel, usla, hemsk*, fruktansvärd*, värdelös*, hatar, katastrof*, inkompetent*
		da: forfærdelig*, elendigt, ubrugelig*, hader
		sr: užasn*, grozn*, katastrof*, očajn*, beskorisn*, mrzim, nesposobn*
		de: furchtbar*, schrecklich*, katastroph*, nutzlos*, hasse, miserabel, inkompetent*
		fr: horrible*, affreux, affreuse, nul, nulle, inutile, déteste, lamentable, catastroph*, incompétent*
		es: pésimo, pésima, horrible*, terrible*, fatal, inútil, odio, desastre, incompetent*`},
	// Superlatives: "the worst ..." is a complaint about the service.
	{val: -1.3, comp: 0.5, phrases: `
		en: worst
		nb: verst, verste, dårligste
		sv: sämsta, sämst, värsta
		da: værste, dårligste
		sr: najgor*, najlošij*
		de: schlechteste*, schlimmste*
		fr: pire
		es: peor`},
	// Unacceptable and shameful: a grievance.
	{val: -1.2, frus: 0.3, comp: 0.7, phrases: `
		en: unacceptable, outrageous, disgrace, shameful, shocking
		nb: uakseptabel*, skandal*, skammelig
		sv: oacceptabel*, skandal*, skamligt
		da: uacceptab*, skandal*
		sr: neprihvatljiv*, nedopustiv*, skandal*, bruka, sramot*
		de: inakzeptabel*, unverschämt*, skandal*, frechheit
		fr: inacceptable, inadmissible, scandal*, honteux
		es: inaceptable, vergüenza, escándalo, indignante`},
	// Mild bad news, not an evaluation on its own.
	{val: -0.35, phrases: `
		en: unfortunately, sadly, broke, broken, stopped working
		nb: dessverre, ødelagt, sluttet å virke
		sv: tyvärr, trasig, gick sönder, slutade fungera
		da: desværre, gået i stykker
		sr: nažalost, pokvaren*, polomljen*, ne radi
		de: leider, kaputt, kaputtgegangen, funktioniert nicht
		fr: malheureusement, cassé, cassée, ne fonctionne plus
		es: lamentablemente, desafortunadamente, roto, rota, no funciona`},
	// Calling the service a joke: exasperation and a grievance.
	{val: -0.8, frus: 1, comp: 0.5, phrases: `
		en: ridiculous, joke, unbelievable, absurd
		nb: latterlig*, vits, tull, absurd*
		sv: löjlig*, skämt, absurd*
		da: latterlig*, absurd*
		sr: smešno, bezobraz*, neozbiljn*, sprdnja, apsurd*
		de: lächerlich, witz, absurd
		fr: ridicule, absurde, foutage
		es: ridículo, ridícula, absurdo, tomadura de pelo`},
	// Impatience and exasperation.
	{val: -0.8, frus: 1, phrases: `
		en: annoying, annoyed, frustrat*, fed up, sick of, tired of, furious, angry, pissed, ugh, argh, how many times, how much longer, keep* happening, every single time, once again, yet again, been waiting, still waiting, still not, still no, still nothing, still havent, still hasnt, still dont, still doesnt, still cant
		nb: irriterende, irritert, frustrer*, lei av, er lei, så lei, sint, forbanna, forbannet, hvor mange ganger, hvor lenge må, nok en gang, enda en gang, fortsatt ikke, fortsatt ingen*, fortsatt ingenting, enda ikke, venter fortsatt
		sv: irriterande, irriterad, frustrer*, trött på, less på, arg, förbannad, hur många gånger, hur länge ska, ännu en gång, fortfarande inte, fortfarande ingen*, fortfarande inget, väntar fortfarande
		da: irriterende, frustrer*, træt af, vred, hvor mange gange, stadig ikke, stadig ingen*, stadig intet
		sr: nervira*, iznervir*, ljut*, dosta mi je, mi je dosta, koliko puta, koliko još, još uvek ne, još uvek nije, još uvek nisam, još uvek ništa, još uvek nema
		de: nervig, nervt, genervt, frustrier*, wütend, sauer, wie oft, schon wieder, immer noch nicht, immer noch kein*, immer noch nichts
		fr: énervant*, énervé*, agaçant*, frustr*, furieux, furieuse, marre, combien de fois, encore une fois, toujours pas, toujours rien
		es: harto, harta, fastidio, molesto, molesta, frustr*, enfadad*, cuántas veces, otra vez no, todavía no, aún no, sigo esperando`},
	// Weaker repetition cues: "again", "all the time".
	{val: -0.3, frus: 0.5, phrases: `
		en: again, keeps, constantly, every time, always happens
		nb: igjen, hele tiden, stadig vekk
		sv: igen, hela tiden, jämt
		da: igen, hele tiden
		sr: opet, stalno, uvek isto
		de: wieder, ständig, dauernd
		fr: encore, sans arrêt, tout le temps
		es: de nuevo, vuelto a, siempre igual`},
	// Nobody answers: frustration and a grievance about the service.
	{val: -0.8, frus: 1, comp: 0.5, noNeg: true, phrases: `
		en: nobody~answers, nobody~answered, nobody~responds, nobody~replies, nobody~helps, nobody~help, no one~answers, no one~help*, no one~responds, no response, no reply, ignored
		nb: ingen~svarer, ingen~hjelpe, ingen~hjelper, ingen~svar
		sv: ingen~svarar, ingen~hjälpa, ingen~hjälper, inget svar
		da: ingen~svarer, ingen~hjælpe, intet svar
		sr: niko~ne odgovara, niko~ne javlja, niko~nije javio, niko~ne može, niko~pomoći, bez odgovora
		de: niemand~antwortet, niemand~hilft, niemand~helfen, keine antwort
		fr: personne~répond, personne~aide, personne~aider, aucune réponse
		es: nadie~responde, nadie~contesta, nadie~ayuda, sin respuesta`},
	// Profanity.
	{val: -0.9, frus: 1, phrases: `
		en: fuck*, shit*, wtf, damn*, crap*, bullshit, the hell, hell is, omfg, bloody
		nb: faen, fy faen, helvete, dritt*, jævla*, satan
		sv: vad fan, för fan, fan också, helvete, skit*, jävla*, jävlar
		da: fanden, for helvede, pis, lort*, fuck*
		sr: jebote, jebem*, kurac, kurca, sranje, govn*, pizd*, majku mu
		de: scheiß*, scheiss*, verdammt*, mist, kacke
		fr: merde*, putain, bordel
		es: mierda, joder, puta*, coño, carajo`},
	// Explicit complaints.
	{val: -0.8, comp: 1, phrases: `
		en: complain*, complaint*, file a claim, formal claim
		nb: klage, klager, klagen, klaget, klagde, reklamasjon*, reklamere*
		sv: klaga*, klagomål*, reklamation*, reklamera*
		da: klage, klager, klagen, reklamation*, reklamere*
		sr: žalba, žalbu, žalbe, žalim se, prigovor*, reklamacij*, reklamaciju
		de: beschwer*, reklamation*, reklamieren
		fr: plainte*, réclamation*, me plaindre, porter plainte
		es: queja*, quejarme, reclamación*, reclamar`},
	// Escalation: asking for a manager.
	{val: -0.6, comp: 1, frus: 0.5, phrases: `
		en: speak~manager, talk~manager, want~manager, get~manager, your manager, speak~supervisor, talk~supervisor, want~supervisor, your supervisor, someone in charge, escalate this
		nb: snakke~sjef*, snakke~leder*, snakke~overordnet, sjefen din, din sjef, med en sjef
		sv: prata~chef*, tala~chef*, prata~ansvarig, med en chef, din chef
		da: tale~chef*, snakke~chef*, med en chef, din chef
		sr: razgovar*~šef*, razgovar*~menadžer*, pričam~šef*, pričam~menadžer*, sa šefom, sa menadžerom, nadređen*
		de: vorgesetzt*, sprechen~chef, ihren chef, geschäftsführ*
		fr: parler~responsable, parler~supérieur, parler~directeur, votre responsable
		es: hablar~supervisor, hablar~gerente, hablar~encargado, hablar~responsable`},
	// Threats to leave or to take it further, fraud accusations.
	{val: -0.8, comp: 1, phrases: `
		en: scam*, fraud*, rip off, ripoff, lawyer, legal action, sue you, chargeback, consumer protection, consumer council, bad review, negative review, report you, to a competitor, to your competitor, switch~competitor, take my business, the last time i order, the last time i buy, the last time i shop, last time i ever, never order~again, never buy~again, never again, done with you, im done, cancel everything, i will cancel, im cancelling, im canceling, going to cancel
		nb: svindel*, svindl*, bedrageri, advokat, forbrukerrådet, dårlig anmeldelse, melde dere, til en konkurrent, til konkurrenten, siste gang jeg handler, siste gang jeg bestiller, aldri mer, aldri igjen, ferdig med dere, sier jeg opp, sier opp alt
		sv: bedrägeri*, bedragare, lurendrej*, advokat, konsumentverket, arn, dålig recension, anmäla er, till en konkurrent, till konkurrenten, sista gången jag handlar, sista gången jag beställer, aldrig mer, aldrig igen, klar med er, säger jag upp
		da: svindel*, advokat, forbrugerrådet, dårlig anmeldelse, til en konkurrent, sidste gang jeg handler, aldrig mere, aldrig igen, færdig med jer
		sr: prevar*, prevaren*, lopov*, advokat*, zaštita potrošača, tužiću, kod konkurencije, konkurenciji, poslednji put kupujem, poslednji put naručujem, nikad više, nikada više, otkazujem sve
		de: betrug*, betrüger*, abzocke, anwalt, verbraucherzentrale, schlechte bewertung, zur konkurrenz, nie wieder
		fr: arnaque*, escroquerie, escroc*, avocat, mauvais avis, chez la concurrence, à la concurrence, plus jamais
		es: estafa*, timo, fraude, abogado, mala reseña, a la competencia, nunca más`},
	// Demands and grievances that are complaints when the tone is negative.
	{val: -0.5, comp: 0.5, phrases: `
		en: demand, i demand, demanding, money back, charged~twice, double charged, never arrived, never delivered, never received, close my account, delete my account, fix this
		nb: krever, pengene tilbake, trukket~to ganger, dobbelt trukket, aldri levert, aldri kommet, slett kontoen, avslutt kontoen
		sv: kräver, pengarna tillbaka, dragit~två gånger, dubbeldragning, levererades aldrig, aldrig levererad, avsluta mitt konto, radera mitt konto
		da: kræver, pengene tilbage, trukket~to gange, aldrig leveret, luk min konto
		sr: zahtevam, zahtevamo, novac nazad, naplatili~dva puta, nikada nije isporučen*, nikad nije stig*, nikada nije stig*, ugasite nalog
		de: verlange, fordere, geld zurück, doppelt belastet, doppelt abgebucht, nie angekommen, nie geliefert
		fr: exige, rembours~immédiatement, débité~deux fois, jamais reçu, jamais arrivé
		es: exijo, dinero de vuelta, cobraron~dos veces, cobrado~dos veces, nunca llegó`},
	// Praise.
	{val: 1.2, phrases: `
		en: excellent, awesome, amazing, fantastic, brilliant, outstanding, superb, wonderful, love, loved, lovely, 10/10, the best, youre the best, you are the best
		nb: kjempebra, fantastisk, strålende, elsker, supert, er best, genialt, knallbra
		sv: grym, grymt, toppen, fantastisk*, strålande, älskar, supernöjd, är bäst, klockrent
		da: fantastisk*, fremragende, elsker, bedst
		sr: odličn*, savršen*, sjajn*, fantastičn*, obožavam, najbolj*, svidja, sviđa
		de: ausgezeichnet, großartig, fantastisch, hervorragend, wunderbar, toll
		fr: génial*, excellent*, parfait*, adore, formidable, magnifique, pas mal
		es: excelente, genial, estupend*, encanta, maravillos*, fantástic*, perfecto, perfecta`},
	{val: 1, phrases: `
		en: great, perfect, super, happy, pleased, satisfied, impressed
		nb: flott, perfekt, super, fornøyd, glad
		sv: perfekt, super, nöjd, glad
		da: perfekt, super, tilfreds, glad
		sr: super, zadovolj*, srećan, srećna, preporučujem
		de: perfekt, super, zufrieden, glücklich
		fr: super, ravi, ravie, satisfait*, contente
		es: super, satisfech*, contento, contenta, feliz`},
	{val: 0.7, phrases: `
		en: good, nice, helpful, friendly, appreciate*, fast delivery, fast shipping, so fast, very fast, solved, resolved, works fine, works great, wow, recommend
		nb: bra, god, fint, hjelpsom*, kjempehjelpsom*, hyggelig, setter pris, løste, løst, rask, raskt, raskere, anbefaler
		sv: bra, fint, hjälpsam*, jättehjälpsam*, trevlig*, uppskattar, löste, löst, snabb*, rekommenderar
		da: god, godt, fint, hjælpsom*, venlig, sætter pris, løste, løst, hurtig*, anbefaler
		sr: dobr*, ljubaz*, cenim, od pomoći, rešilo, rešeno, rešen, brz*, radi kako treba
		de: gut, hilfreich, freundlich, gelöst, schnell, empfehle
		fr: bien, aimable, sympa, résolu, rapide*, recommande
		es: bien, amable, resuelto, resolvió, rápido, rápida, recomiendo`},
	// Urgency: "now", "immediately".
	{frus: 0.5, phrases: `
		en: now, right now, immediately, asap, at once
		nb: med en gang, umiddelbart, straks
		sv: nu, omedelbart, genast, direkt
		da: nu, straks, med det samme
		sr: odmah, smesta, hitno
		de: sofort, jetzt, umgehend
		fr: tout de suite, immédiatement
		es: ya, ahora mismo, inmediatamente, de inmediato`},
	// Gratitude: positive, but never negated ("no, thanks") and weak, so a
	// polite "thanks" at the end of a question stays neutral.
	{val: 0.45, noNeg: true, phrases: `
		en: thanks, thank, thx, cheers
		nb: takk, tusen takk
		sv: tack
		da: tak, tusind tak
		sr: hvala
		de: danke, vielen dank
		fr: merci
		es: gracias`},
}

// negators flip the valence of a cue up to three words after them, in the
// same clause ("not bad", "ikke dårlig", "nije loše", "pas mal").
var negators = words(`not no never nothing dont doesnt didnt isnt wasnt arent werent cant cannot couldnt wont wouldnt havent hasnt hardly neither nor
	ikke ikkje aldri ingen inte ej aldrig inga inget
	ne nije nisam nisi nismo niste nisu nema nikad nikada
	nicht kein keine keinen keiner nie niemals
	pas jamais aucun aucune
	nunca tampoco`)

// intensifiers strengthen the next cue in the clause ("very disappointing").
var intensifiers = words(`very really so extremely totally absolutely completely utterly
	veldig svært helt kjempe utrolig særdeles
	väldigt mycket jätte otroligt
	meget virkelig fuldstændig
	jako veoma vrlo baš stvarno potpuno
	sehr total echt wirklich völlig absolut
	très vraiment complètement totalement
	muy realmente totalmente completamente`)

// timesWords follow a count in "third time", "4 times", "tredje gang".
var timesWords = words(`time times gang ganger gangen gången gånger gange gangen put puta mal fois vez veces`)

// ordinals and numbers from three up, for "the third time I ask".
var counts = words(`third fourth fifth sixth tenth three four five six seven ten 3rd 4th 5th 6th
	tredje fjerde femte sjette tre fire fem seks fyra sex
	treći četvrti peti treci cetvrti tri četiri cetiri pet šest sest
	dritte vierte fünfte drei vier fünf
	troisième quatrième cinquième trois quatre cinq
	tercera tercer cuarta quinta tres cuatro cinco`)
