package llm

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/supportbot/supportbot/internal/conf"
)

// Config is the [llm] section of config.toml. Everything is off unless
// Enabled is true. The API key is never in the file: it comes from the
// environment (OPENAI_API_KEY), see FromEnv.
type Config struct {
	Enabled         bool   `toml:"enabled"`
	API             string `toml:"api"`               // "openai" (OpenAI and compatible servers: Ollama, vLLM, llama.cpp) | "azure"
	BaseURL         string `toml:"base_url"`          // including /v1 for OpenAI-compatible servers; the resource URL for Azure
	Model           string `toml:"model"`             // chat model (Azure: deployment name)
	EmbeddingModel  string `toml:"embedding_model"`   // "" turns semantic retrieval off
	AzureAPIVersion string `toml:"azure_api_version"` // api-version query parameter for Azure

	Timeout        conf.Duration `toml:"timeout"`          // per call; well under bot.handler_timeout
	MaxTokens      int           `toml:"max_tokens"`       // completion tokens per call
	MaxTokensField string        `toml:"max_tokens_field"` // "max_tokens" (widest support) | "max_completion_tokens" (OpenAI o-series)
	Temperature    float64       `toml:"temperature"`

	MonthlyTokenBudget int64         `toml:"monthly_token_budget"`         // all calls of this process per calendar month (UTC); 0: no limit
	RatePerMinute      int           `toml:"rate_per_minute"`              // calls per minute, all conversations; 0: no limit
	TokensPerMinute    int           `toml:"tokens_per_minute"`            // tokens per minute, all conversations; 0: no limit
	ConvRatePerMinute  int           `toml:"conversation_rate_per_minute"` // calls per minute in one conversation; 0: no limit
	ConvTokensPerMonth int64         `toml:"conversation_tokens"`          // tokens one conversation may use per month; 0: no limit
	BreakerFailures    int           `toml:"breaker_failures"`             // consecutive failures (timeout, 5xx, 429, network) that open the breaker
	BreakerCooldown    conf.Duration `toml:"breaker_cooldown"`             // how long the breaker stays open before one probe

	Redact bool `toml:"redact"` // replace emails, phones, card numbers, IBANs and national IDs before text leaves the process

	GroundedAnswers bool    `toml:"grounded_answers"` // answer from KB entries when the offline router is unsure
	MinRelevance    float64 `toml:"min_relevance"`    // least relevance (0..1) of a KB entry to be a source
	MaxSources      int     `toml:"max_sources"`      // KB entries given to the model
	SemanticWeight  float64 `toml:"semantic_weight"`  // weight of embedding similarity in the blended ranking (0..1)
	Summaries       bool    `toml:"summaries"`        // handoff card summary
	Translate       bool    `toml:"translate"`        // two-way translation between agent and customer
	AgentLang       string  `toml:"agent_lang"`       // language agents read and write

	// APIKey is set from OPENAI_API_KEY by FromEnv, never from the file.
	APIKey string `toml:"-"`
}

// Default returns the defaults of every key.
func Default() Config {
	return Config{
		API: "openai", BaseURL: "https://api.openai.com/v1", Model: "gpt-4o-mini",
		Timeout: conf.Duration{Duration: 4 * time.Second}, MaxTokens: 400, MaxTokensField: "max_tokens", Temperature: 0.1,
		MonthlyTokenBudget: 2_000_000, RatePerMinute: 120, ConvRatePerMinute: 6, ConvTokensPerMonth: 30_000,
		BreakerFailures: 3, BreakerCooldown: conf.Duration{Duration: 30 * time.Second},
		Redact: true, GroundedAnswers: true, MinRelevance: 0.3, MaxSources: 3, SemanticWeight: 0.5,
		Summaries: true, Translate: true, AgentLang: "en",
	}
}

// FromEnv sets the API key from OPENAI_API_KEY (lookup is os.LookupEnv).
func (c *Config) FromEnv(lookup func(string) (string, bool)) {
	if v, ok := lookup("OPENAI_API_KEY"); ok {
		c.APIKey = v
	}
}

// Validate reports every bad value as "llm.key: problem". A disabled
// configuration is always valid.
func (c *Config) Validate() error {
	if !c.Enabled {
		return nil
	}
	var errs []error
	bad := func(key, f string, a ...any) {
		errs = append(errs, fmt.Errorf("llm.%s: %s", key, fmt.Sprintf(f, a...)))
	}
	switch c.API {
	case "openai":
	case "azure":
		if c.AzureAPIVersion == "" {
			bad("azure_api_version", "required with api = \"azure\"")
		}
		if c.APIKey == "" {
			bad("api", "azure needs OPENAI_API_KEY in the environment")
		}
	default:
		bad("api", "must be openai or azure, got %q", c.API)
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("base_url", "want an http(s) URL, got %q", c.BaseURL)
	}
	if c.Model == "" {
		bad("model", "required")
	}
	if c.Timeout.Duration <= 0 || c.Timeout.Duration > time.Minute {
		bad("timeout", "must be between 1ms and 1m")
	}
	if c.MaxTokens < 16 || c.MaxTokens > 32_000 {
		bad("max_tokens", "must be between 16 and 32000, got %d", c.MaxTokens)
	}
	if c.MaxTokensField != "max_tokens" && c.MaxTokensField != "max_completion_tokens" {
		bad("max_tokens_field", "must be max_tokens or max_completion_tokens, got %q", c.MaxTokensField)
	}
	if c.Temperature < 0 || c.Temperature > 2 {
		bad("temperature", "must be between 0 and 2")
	}
	for k, v := range map[string]int64{"monthly_token_budget": c.MonthlyTokenBudget, "rate_per_minute": int64(c.RatePerMinute),
		"tokens_per_minute": int64(c.TokensPerMinute), "conversation_rate_per_minute": int64(c.ConvRatePerMinute),
		"conversation_tokens": c.ConvTokensPerMonth} {
		if v < 0 {
			bad(k, "must not be negative (0 means no limit)")
		}
	}
	if c.BreakerFailures < 1 {
		bad("breaker_failures", "must be at least 1")
	}
	if c.BreakerCooldown.Duration <= 0 {
		bad("breaker_cooldown", "must be positive")
	}
	if c.MinRelevance < 0 || c.MinRelevance > 1 {
		bad("min_relevance", "must be between 0 and 1")
	}
	if c.MaxSources < 1 || c.MaxSources > 10 {
		bad("max_sources", "must be between 1 and 10")
	}
	if c.SemanticWeight < 0 || c.SemanticWeight > 1 {
		bad("semantic_weight", "must be between 0 and 1")
	}
	if c.AgentLang == "" {
		bad("agent_lang", "required (a language code such as \"en\")")
	}
	return errors.Join(errs...)
}
