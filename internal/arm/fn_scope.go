package arm

import (
	"strings"
)

// scopeFunctions read the deployment: parameters, variables, the resource
// group and subscription, and resource IDs built from them.
func scopeFunctions() []*fnSpec {
	return []*fnSpec{
		{name: "parameters", min: 1, max: 1, lookup: true, call: fnParameters},
		{name: "variables", min: 1, max: 1, lookup: true, call: fnVariables},
		{name: "resourceGroup", min: 0, max: 0, call: fnResourceGroup},
		{name: "subscription", min: 0, max: 0, call: fnSubscription},
		{name: "resourceId", min: 2, max: -1, call: fnResourceID},
		{name: "subscriptionResourceId", min: 2, max: -1, call: fnSubscriptionResourceID},
		{name: "tenantResourceId", min: 2, max: -1, call: fnTenantResourceID},
	}
}

func fnParameters(c *callCtx) (any, error) {
	name, err := c.str(0)
	if err != nil {
		return nil, err
	}
	return c.e.get(c.e.params, name)
}

func fnVariables(c *callCtx) (any, error) {
	name, err := c.str(0)
	if err != nil {
		return nil, err
	}
	return c.e.get(c.e.vars, name)
}

func fnResourceGroup(c *callCtx) (any, error) {
	ctx := c.e.ctx
	if ctx.SubscriptionID == "" || ctx.ResourceGroup == "" {
		return nil, c.errorf("the deployment has no resource group")
	}
	return map[string]any{
		"id":         ResourceGroupID(ctx.SubscriptionID, ctx.ResourceGroup).String(),
		"name":       ctx.ResourceGroup,
		"type":       ResourcesNamespace + "/resourceGroups",
		"location":   ctx.Location,
		"tags":       map[string]any{},
		"properties": map[string]any{"provisioningState": "Succeeded"},
	}, nil
}

func fnSubscription(c *callCtx) (any, error) {
	ctx := c.e.ctx
	if ctx.SubscriptionID == "" {
		return nil, c.errorf("the deployment has no subscription")
	}
	name := ctx.SubscriptionName
	if name == "" {
		name = ctx.SubscriptionID
	}
	return map[string]any{
		"id":             SubscriptionID(ctx.SubscriptionID).String(),
		"subscriptionId": ctx.SubscriptionID,
		"tenantId":       ctx.TenantID,
		"displayName":    name,
	}, nil
}

// fnResourceID is resourceId([subscriptionId], [resourceGroupName], type, name...).
func fnResourceID(c *callCtx) (any, error) {
	return c.resourceID(2, func(lead []string) (string, string) {
		sub, rg := c.e.ctx.SubscriptionID, c.e.ctx.ResourceGroup
		switch len(lead) {
		case 1:
			rg = lead[0]
		case 2:
			sub, rg = lead[0], lead[1]
		}
		return sub, rg
	})
}

// fnSubscriptionResourceID is subscriptionResourceId([subscriptionId], type, name...).
func fnSubscriptionResourceID(c *callCtx) (any, error) {
	return c.resourceID(1, func(lead []string) (string, string) {
		if len(lead) == 1 {
			return lead[0], ""
		}
		return c.e.ctx.SubscriptionID, ""
	})
}

// fnTenantResourceID is tenantResourceId(type, name...).
func fnTenantResourceID(c *callCtx) (any, error) {
	return c.resourceID(0, func([]string) (string, string) { return "", "" })
}

// resourceID finds the type argument (the first one containing "/"),
// passes up to maxLead arguments before it to scope, and builds the ID.
// A name containing "/" supplies several levels ("gallery/image").
func (c *callCtx) resourceID(maxLead int, scope func(lead []string) (string, string)) (any, error) {
	args, err := c.strs(0)
	if err != nil {
		return nil, err
	}
	t := -1
	for i, a := range args {
		if strings.Contains(a, "/") {
			t = i
			break
		}
	}
	if t < 0 || t > maxLead || t == len(args)-1 {
		return nil, c.errorf("expected %s", resourceIDUsage(c.fn.name))
	}
	var names []string
	for _, n := range args[t+1:] {
		names = append(names, strings.Split(n, "/")...)
	}
	sub, rg := scope(args[:t])
	id, err := ResourceID(sub, rg, args[t], names...)
	if err != nil {
		return nil, c.errorf("%v", err)
	}
	return id.String(), nil
}

func resourceIDUsage(name string) string {
	switch name {
	case "resourceId":
		return "resourceId([subscriptionId], [resourceGroupName], 'Namespace/type', 'name', ...)"
	case "subscriptionResourceId":
		return "subscriptionResourceId([subscriptionId], 'Namespace/type', 'name', ...)"
	}
	return "tenantResourceId('Namespace/type', 'name', ...)"
}
