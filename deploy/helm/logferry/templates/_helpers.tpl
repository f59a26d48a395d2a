{{/* Selector labels: the same as `logferry manifests` (the release name is the instance). */}}
{{- define "logferry.selectorLabels" -}}
app.kubernetes.io/name: logferry
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "logferry.labels" -}}
{{ include "logferry.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/* The agent's config file: values.config, plus the journald input when asked for. */}}
{{- define "logferry.config" -}}
{{- $config := deepCopy .Values.config -}}
{{- if .Values.journald -}}
{{- $inputs := $config.inputs | default dict -}}
{{- $_ := set $inputs "journald" (dict "enabled" true "directory" "/var/log/journal") -}}
{{- $_ := set $config "inputs" $inputs -}}
{{- end -}}
{{- toYaml $config -}}
{{- end -}}

{{/* The port of config.server.address: the container port the probes use. */}}
{{- define "logferry.port" -}}
{{- regexReplaceAll "^.*:" (toString .Values.config.server.address) "" | int -}}
{{- end -}}
