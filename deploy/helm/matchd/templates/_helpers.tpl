{{/* Chart name, trimmed to a DNS label. */}}
{{- define "matchd.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Full name of the release's objects. */}}
{{- define "matchd.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "matchd.selectorLabels" -}}
app.kubernetes.io/name: {{ include "matchd.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "matchd.labels" -}}
{{ include "matchd.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/*
The Secret every secret comes from. Secrets are never rendered from values,
so one must exist before installing.
*/}}
{{- define "matchd.secretName" -}}
{{- required "secrets.existingSecret: name the Secret holding the hmac secret, the admin token and the Redis password (see values.yaml)" .Values.secrets.existingSecret -}}
{{- end -}}

{{/* terminationGracePeriodSeconds: preStop sleep + drain + a margin, unless set. */}}
{{- define "matchd.terminationGrace" -}}
{{- $least := add (int .Values.preStopSleepSeconds) (int .Values.drainTimeoutSeconds) -}}
{{- if .Values.terminationGracePeriodSeconds -}}
{{- if le (int .Values.terminationGracePeriodSeconds) $least -}}
{{- fail (printf "terminationGracePeriodSeconds (%d) must exceed preStopSleepSeconds + drainTimeoutSeconds (%d), or the drain is cut short by SIGKILL" (int .Values.terminationGracePeriodSeconds) $least) -}}
{{- end -}}
{{- .Values.terminationGracePeriodSeconds -}}
{{- else -}}
{{- add $least 10 -}}
{{- end -}}
{{- end -}}

{{/*
The matchd configuration file: .Values.config with the keys the chart owns
set on top (listeners, drain timeout, auth mode, redis), so the probes, the
Service and the grace period always agree with what matchd does.
*/}}
{{- define "matchd.config" -}}
{{- $cfg := deepCopy (.Values.config | default dict) -}}
{{- $server := deepCopy (get $cfg "server" | default dict) -}}
{{- $_ := set $server "addr" (printf "0.0.0.0:%d" (int .Values.ports.client)) -}}
{{- $_ := set $server "drain_timeout" (printf "%ds" (int .Values.drainTimeoutSeconds)) -}}
{{- $_ := set $cfg "server" $server -}}
{{- $adminHost := ternary "0.0.0.0" "127.0.0.1" .Values.admin.expose -}}
{{- $_ := set $cfg "admin" (dict "addr" (printf "%s:%d" $adminHost (int .Values.ports.admin))) -}}
{{- $_ := set $cfg "metrics" (dict "addr" (printf "0.0.0.0:%d" (int .Values.ports.metrics))) -}}
{{- $auth := deepCopy (get $cfg "auth" | default dict) -}}
{{- $_ := set $auth "mode" .Values.auth.mode -}}
{{- if eq .Values.auth.mode "jwks" -}}
{{- $_ := set $auth "jwks_url" (required "auth.jwks.url: the identity provider's key set URL is required in jwks mode" .Values.auth.jwks.url) -}}
{{- $_ := set $auth "issuer" .Values.auth.jwks.issuer -}}
{{- $_ := set $auth "audience" .Values.auth.jwks.audience -}}
{{- $_ := set $auth "player_claim" (.Values.auth.jwks.playerClaim | default "sub") -}}
{{- else if ne .Values.auth.mode "hmac" -}}
{{- fail (printf "auth.mode: hmac or jwks, got %q (insecure trusts any client and is refused behind a Service)" .Values.auth.mode) -}}
{{- end -}}
{{- $_ := set $cfg "auth" $auth -}}
{{- if not (has .Values.redis.mode (list "standalone" "sentinel" "cluster")) -}}
{{- fail (printf "redis.mode: standalone, sentinel or cluster, got %q (embedded keeps everything in one pod)" .Values.redis.mode) -}}
{{- end -}}
{{- $redis := deepCopy (get $cfg "redis" | default dict) -}}
{{- $_ := set $redis "mode" .Values.redis.mode -}}
{{- $_ := set $redis "addrs" (required "redis.addrs: at least one host:port" (.Values.redis.addrs | default nil)) -}}
{{- $_ := set $redis "key_prefix" .Values.redis.keyPrefix -}}
{{- if eq .Values.redis.mode "sentinel" -}}
{{- $_ := set $redis "master_set" (required "redis.masterSet: required in sentinel mode" .Values.redis.masterSet) -}}
{{- end -}}
{{- $_ := set $cfg "redis" $redis -}}
{{- toYaml $cfg -}}
{{- end -}}
