package intents

// builtinOOS teaches every knowledge base what is out of scope for a
// customer-support bot, so a shop's router hands off rather than guessing.
var builtinOOS = []string{
	"what's the weather like tomorrow", "tell me a joke", "who won the football match yesterday",
	"what is the capital of australia", "can you help me with my math homework", "write me a poem",
	"what is the meaning of life", "how tall is the eiffel tower", "play some music",
	"translate this sentence into french", "what's your favourite movie", "how do I bake bread",
	"set an alarm for 7am", "what time is it in tokyo", "recommend a good book",
	"hvordan blir været i morgen", "fortell en vits", "hva er hovedstaden i australia", "spill musikk",
	"hvem vant fotballkampen", "hjelp meg med leksene",
	"hur blir vädret imorgon", "berätta ett skämt", "vad är huvudstaden i australien", "spela musik",
	"vem vann matchen igår", "hjälp mig med läxan",
	"kakvo će biti vreme sutra", "ispričaj mi vic", "koji je glavni grad australije", "pusti muziku",
	"ko je pobedio na utakmici", "pomozi mi sa domaćim zadatkom", "какво ће бити време сутра", "испричај ми виц",
}
