{{- define "logferry.labels" -}}
app.kubernetes.io/name: logferry
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
