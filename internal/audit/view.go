package audit

import (
	"strconv"
	"strings"
	"time"

	"github.com/kiln-dev/kiln/internal/arm"
	"github.com/kiln-dev/kiln/internal/store"
)

// Event is an activity log entry as `az monitor activity-log list`
// prints it.
type Event struct {
	Authorization        Authorization     `json:"authorization"`
	Caller               string            `json:"caller"`
	Category             LocalizableString `json:"category"`
	Claims               map[string]string `json:"claims"`
	CorrelationID        string            `json:"correlationId"`
	Description          string            `json:"description"`
	EventDataID          string            `json:"eventDataId"`
	EventName            LocalizableString `json:"eventName"`
	EventTimestamp       string            `json:"eventTimestamp"`
	ID                   string            `json:"id"`
	Level                string            `json:"level"`
	OperationID          string            `json:"operationId"`
	OperationName        LocalizableString `json:"operationName"`
	Properties           map[string]string `json:"properties"`
	ResourceGroupName    string            `json:"resourceGroupName"`
	ResourceID           string            `json:"resourceId"`
	ResourceProviderName LocalizableString `json:"resourceProviderName"`
	ResourceType         LocalizableString `json:"resourceType"`
	Status               LocalizableString `json:"status"`
	SubStatus            LocalizableString `json:"subStatus"`
	SubmissionTimestamp  string            `json:"submissionTimestamp"`
	SubscriptionID       string            `json:"subscriptionId"`
	TenantID             string            `json:"tenantId"`
}

// Authorization is the action and scope an event was authorized for.
type Authorization struct {
	Action string `json:"action"`
	Scope  string `json:"scope"`
}

// LocalizableString is Azure's {value, localizedValue} pair.
type LocalizableString struct {
	Value          string `json:"value"`
	LocalizedValue string `json:"localizedValue"`
}

func localizable(s string) LocalizableString { return LocalizableString{Value: s, LocalizedValue: s} }

// dotNetEpochTicks is 1970-01-01 in .NET ticks (100 ns since year 1),
// which Azure puts in event IDs.
const dotNetEpochTicks = 621355968000000000

func (l *Log) view(e store.ActivityEvent) Event {
	ts := e.Time.UTC().Format(time.RFC3339Nano)
	level := "Informational"
	if e.Status == StatusFailed {
		level = "Error"
	}
	group, provider, rtype := "", "", ""
	if id, err := arm.ParseID(e.Scope); err == nil {
		group, provider, rtype = id.ResourceGroup(), id.Provider(), id.ResourceType()
	}
	if provider == "" {
		provider, _, _ = strings.Cut(e.Operation, "/")
	}
	props := map[string]string{"entity": e.Scope, "message": e.Operation, "statusCode": e.SubStatus}
	if e.Message != "" {
		props["statusMessage"] = e.Message
	}
	return Event{
		Authorization:        Authorization{Action: e.Operation, Scope: e.Scope},
		Caller:               e.Caller,
		Category:             localizable("Administrative"),
		Claims:               map[string]string{"http://schemas.microsoft.com/identity/claims/objectidentifier": e.CallerID},
		CorrelationID:        e.CorrelationID,
		EventDataID:          e.EventID,
		EventName:            localizable("EndRequest"),
		EventTimestamp:       ts,
		ID:                   e.Scope + "/events/" + e.EventID + "/ticks/" + ticks(e.Time),
		Level:                level,
		OperationID:          e.CorrelationID,
		OperationName:        localizable(e.Operation),
		Properties:           props,
		ResourceGroupName:    group,
		ResourceID:           e.Scope,
		ResourceProviderName: localizable(provider),
		ResourceType:         localizable(rtype),
		Status:               localizable(e.Status),
		SubStatus:            localizable(e.SubStatus),
		SubmissionTimestamp:  ts,
		SubscriptionID:       l.SubscriptionID,
		TenantID:             l.TenantID,
	}
}

func ticks(t time.Time) string {
	return strconv.FormatInt(t.UnixNano()/100+dotNetEpochTicks, 10)
}
