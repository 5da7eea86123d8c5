package output

import (
	"encoding/json"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// formatYAML renders the tree as block YAML with two-space indentation and
// sequences not indented under their key, like PyYAML's safe_dump used by az
// (but with keys in struct order rather than sorted).
func formatYAML(tree any) (string, error) {
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	enc.CompactSeqIndent()
	if err := enc.Encode(yamlNode(tree)); err != nil {
		return "", fmt.Errorf("output: cannot encode yaml: %w", err)
	}
	if err := enc.Close(); err != nil {
		return "", fmt.Errorf("output: cannot encode yaml: %w", err)
	}
	return b.String(), nil
}

func yamlNode(v any) *yaml.Node {
	switch t := v.(type) {
	case *object:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, k := range t.keys {
			n.Content = append(n.Content, yamlScalar("!!str", k), yamlNode(t.vals[k]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, e := range t {
			n.Content = append(n.Content, yamlNode(e))
		}
		return n
	case string:
		return yamlScalar("!!str", t)
	case json.Number:
		if isIntegerText(string(t)) {
			return yamlScalar("!!int", string(t))
		}
		return yamlScalar("!!float", string(t))
	case bool:
		return yamlScalar("!!bool", fmt.Sprint(t))
	}
	return yamlScalar("!!null", "null")
}

func yamlScalar(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}
