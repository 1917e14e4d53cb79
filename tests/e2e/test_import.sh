#!/usr/bin/env bash
# Loading the registers from files (kruispunt import): organisations and
# persons into a fresh data directory, every kind of bad line reported by
# number and skipped, a summary and an exit status that say so, one audit
# event per person; then, against the running daemon, an institution sees
# an imported person through the hub, and a daily change of that person's
# address reaches the institution's mailbox, and a change of pension status
# reaches it once it is authorized for pension_status.
source "$(dirname "$0")/lib.sh"
D=$WORK/data
db_new "$D"
with_db "$D" "$KP" init --data "$D" >/dev/null 2>&1
long=$(python3 -c 'print("x" * 5000)')

# --- organisations, good and bad lines
cat >"$WORK/orgs.ndjson" <<JSON
{"kbo":"0412345614","name":"Bakkerij Wouters","categories":["employer"]}
{"kbo":"0412345614","name":
{"kbo":"0412345615","name":"Wrong check digits"}
{"kbo":"0423456765","name":"Sociaal Secretariaat Oost","colour":"blue"}

{"kbo":"0434567819","name":"Ziekenfonds Oost","actor_type":"health_insurance","branch":"health_insurance"}
{"kbo":"0445678970","name":"Tab	in the name"}
{"kbo":"0445678970","name":"$long"}
JSON
out=$(with_db "$D" "$KP" import orgs --data "$D" --from "$WORK/orgs.ndjson" 2>"$WORK/orgs.err") && rc=0 || rc=$?
err=$(cat "$WORK/orgs.err")
expect "some organisation lines skipped: exit 1" 1 "$rc"
expect_contains "invalid JSON, by line number" "orgs.ndjson:2: malformed_json" "$err"
expect_contains "an invalid KBO, with the number's reason" "orgs.ndjson:3: invalid_kbo: kbo: check" "$err"
expect_contains "an unknown field, named" "orgs.ndjson:4: unknown_field: unknown field 'colour'" "$err"
expect_contains "a control character (the blank line 5 is no line)" "orgs.ndjson:7: control_character" "$err"
expect_contains "a line too long" "orgs.ndjson:8: line_too_long" "$err"
expect "five bad lines, no more" 5 "$(wc -l <"$WORK/orgs.err")"
expect "the summary" "$WORK/orgs.ndjson: lines read 7, inserted 2, updated 0, unchanged 0, skipped 5" "$out"
expect "the institution is registered" health_insurance \
  "$(db_query "$D" "SELECT actor_type FROM institution WHERE kbo='0434567819'")"

# --- persons, a first load
cat >"$WORK/persons.ndjson" <<'JSON'
{"insz":"71031410121","last_name":"Wouters","first_names":"Pieter","birth_date":"1971-03-14","sex":"M","address":{"street":"Veldstraat 12","postal_code":"9000","municipality":"Gent"},"language":"nl"}
{"insz":"73090210276","last_name":"De Smet","first_names":"Els","birth_date":"1973-09-02","sex":"F","language":"nl"}
{"insz":"04062110304","last_name":"Wouters","first_names":"Lucas","birth_date":"2004-06-21","parents":["71031410121","73090210276"]}
{"insz":"71031410122","last_name":"Bad","first_names":"Check"}
{"insz":"71031410121","last_name":"Wouters","first_names":"Pieter","pension":"retired"}
not json at all
{"insz":"73090210276","last_name":"De Smet","first_names":"Els","sex":"M"}
{"insz":"88123010752","last_name":"Lef\u0007vre","first_names":"Antoine"}
JSON
out=$(with_db "$D" "$KP" import registry --data "$D" --from "$WORK/persons.ndjson" --initial 2>"$WORK/persons.err") && rc=0 || rc=$?
err=$(cat "$WORK/persons.err")
expect "some person lines skipped: exit 1" 1 "$rc"
expect_contains "an invalid INSZ, with its reason" "persons.ndjson:4: invalid_insz: insz: check" "$err"
expect_contains "a field the format does not have" "persons.ndjson:5: unknown_field: unknown field 'pension'" "$err"
expect_contains "not JSON" "persons.ndjson:6: malformed_json" "$err"
expect_contains "a sex the number contradicts" "persons.ndjson:7: invalid_field: sex does not match the INSZ" "$err"
expect_contains "an escaped control character" "persons.ndjson:8: control_character" "$err"
expect "the report is in line order" "4 5 6 7 8" "$(cut -d: -f2 "$WORK/persons.err" | tr '\n' ' ' | sed 's/ $//')"
expect "the summary" "$WORK/persons.ndjson: lines read 8, inserted 3, updated 0, unchanged 0, skipped 5" "$out"
expect "three persons registered" 3 "$(db_query "$D" "SELECT count(*) FROM person")"
expect "the child linked to both parents" 2 "$(db_query "$D" "SELECT count(*) FROM person_parent WHERE child='04062110304'")"
adds=$(db_query "$D" "SELECT count(*) FROM audit_event WHERE $ENTRY LIKE '%action:10:person_add%'")
expect "one audit event per person added" 3 "$adds"
expect "and nothing forwarded" 0 "$(db_query "$D" "SELECT count(*) FROM person_mutation")"
out=$(with_db "$D" "$KP" import registry --data "$D" --from "$WORK/persons.ndjson" --initial 2>/dev/null) && rc=0 || rc=$?
expect "loaded again: nothing changes" "$WORK/persons.ndjson: lines read 8, inserted 0, updated 0, unchanged 3, skipped 5" "$out"
with_db "$D" "$KP" audit verify --data "$D" >/dev/null
expect "the audit log is intact" 0 "$?"
echo '{"insz":"71031410121","last_name":"Wouters","first_names":"Pieter","address":{"street":"Kouter 1","postal_code":"9000","municipality":"Gent"}}' >"$WORK/move.ndjson"
out=$(with_db "$D" "$KP" import registry --data "$D" --from "$WORK/move.ndjson" 2>&1) && rc=0 || rc=$?
expect "a change needs the register's authority: exit 1" 1 "$rc"
expect_contains "and says which" "move.ndjson:1: no_register_authority" "$out"
out=$(with_db "$D" "$KP" import registry --data "$D" --from "$WORK/nothere.ndjson" 2>&1) && rc=0 || rc=$?
expect "a file that cannot be read: exit 2" 2 "$rc"
with_db "$D" "$KP" import registry --data "$D" >/dev/null 2>&1 && rc=0 || rc=$?
expect "no --from: a usage error, exit 2" 2 "$rc"
"$KP" help import | grep -q "usage: kruispunt import registry"
expect "kruispunt help import shows its usage" 0 "$?"

# --- against the running daemon: the hub sees an imported person
start_demo
J=(-H 'Content-Type: application/json')
FUND=$(institution_cert 0411111140)
"$KP" import orgs --data "$DEMO" --from "$WORK/orgs.ndjson" >/dev/null 2>&1 || true
out=$("$KP" import registry --data "$DEMO" --from "$WORK/persons.ndjson" --initial 2>/dev/null) || true
expect_contains "a first load while the daemon runs" "inserted 3" "$out"
call POST "$NET/api/v1/directory/dossiers" $FUND "${J[@]}" -d '{"insz":"71031410121","capacity":"001","start":"2025-01-01","phase":2}'
expect "the fund opens a dossier on an imported person" 201 "$STATUS"
call POST "$NET/api/v1/exchange" $FUND "${J[@]}" -d '{"data_type":"identification","subject":"71031410121","capacity":"001","purpose":"health_insurance_rights"}'
expect "and consults his identification data" 200 "$STATUS"
expect "as imported" Wouters "$(json "$BODY" 'j["data"]["last_name"]')"
expect "with his address" "Veldstraat 12" "$(json "$BODY" 'j["data"]["address"]["street"]')"

# --- a daily change reaches the fund's mailbox
mailbox() { call GET "$NET/api/v1/mailbox" $FUND; }
mailbox
before=$(json "$BODY" 'len([m for m in j["messages"] if m["subject"] == "71031410121"])')
out=$("$KP" import registry --data "$DEMO" --from "$WORK/move.ndjson" 2>&1) && rc=0 || rc=$?
expect "the move is applied: exit 0" 0 "$rc"
expect_contains "as one updated person" "lines read 1, inserted 0, updated 1, unchanged 0, skipped 0" "$out"
expect "recorded as an address mutation by the National Register" "address|$(db_query "$DEMO" "SELECT id FROM institution WHERE actor_type='national_register'")" \
  "$(db_query "$DEMO" "SELECT type, institution_id FROM person_mutation WHERE insz='71031410121'")"
for _ in $(seq 100); do
  mailbox
  [ "$(json "$BODY" 'len([m for m in j["messages"] if m["subject"] == "71031410121"])')" -gt "$before" ] && break
  sleep 0.1
done
msg=$(json "$BODY" '[m for m in j["messages"] if m["subject"] == "71031410121"][-1]')
expect "the fund's mailbox has the move" address "$(echo "$msg" | json - 'j["type"]')"
expect "with the new street" "Kouter 1" "$(echo "$msg" | json - 'j["data"]["person"]["street"]')"
out=$("$KP" import registry --data "$DEMO" --from "$WORK/move.ndjson" 2>&1) && rc=0 || rc=$?
expect_contains "the same file again: unchanged" "updated 0, unchanged 1" "$out"
expect "and no second mutation" 1 "$(db_query "$DEMO" "SELECT count(*) FROM person_mutation WHERE insz='71031410121'")"

# --- a daily change of pension status reaches the fund, once authorized for it
"$KP" directory data-type --data "$DEMO" --code pension_status --source national_register --label "pension status" >/dev/null
"$KP" authz add --data "$DEMO" --reference IVC/TEST/PENSION --actor-type health_insurance_fund --capacity 001 \
  --data-type pension_status --purpose flexi_job --from 2025-01-01 >/dev/null
expect "the fund is authorized for pension status" 0 "$?"
echo '{"insz":"71031410121","last_name":"Wouters","first_names":"Pieter","pension_status":"retired","pension_since":"2026-01-01"}' >"$WORK/pension.ndjson"
mailbox
before=$(json "$BODY" 'len([m for m in j["messages"] if m["type"] == "pension"])')
out=$("$KP" import registry --data "$DEMO" --from "$WORK/pension.ndjson" 2>&1) && rc=0 || rc=$?
expect "the pension is applied: exit 0" 0 "$rc"
expect_contains "as one updated person" "updated 1, unchanged 0, skipped 0" "$out"
expect "recorded as a pension mutation, effective on its date" "pension|2026-01-01" \
  "$(db_query "$DEMO" "SELECT type, effective_on FROM person_mutation WHERE insz='71031410121' ORDER BY id DESC LIMIT 1")"
expect "the register holds it" "retired|2026-01-01" \
  "$(db_query "$DEMO" "SELECT pension_status, pension_since FROM person WHERE insz='71031410121'")"
for _ in $(seq 100); do
  mailbox
  [ "$(json "$BODY" 'len([m for m in j["messages"] if m["type"] == "pension"])')" -gt "$before" ] && break
  sleep 0.1
done
msg=$(json "$BODY" '[m for m in j["messages"] if m["type"] == "pension"][-1]')
expect "the fund's mailbox has the pension" 71031410121 "$(echo "$msg" | json - 'j["subject"]')"
expect "with the new status" retired "$(echo "$msg" | json - 'j["data"]["person"]["pension_status"]')"
expect "and its date" 2026-01-01 "$(echo "$msg" | json - 'j["data"]["effective_on"]')"
call POST "$NET/api/v1/exchange" $FUND "${J[@]}" -d '{"data_type":"identification","subject":"71031410121","capacity":"001","purpose":"health_insurance_rights"}'
expect "identification data leave the pension status out" false "$(json "$BODY" '"pension_status" in j["data"]')"
finish
