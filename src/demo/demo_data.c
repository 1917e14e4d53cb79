/*
 * The demo population. Every identifier is valid (mod 97, dates, sequence)
 * and the mix covers the rules: national register numbers of persons born
 * before and after 2000, BIS numbers with known and unknown sex, a parent
 * and a minor child. demo_check_data() proves it in the tests.
 */
#include <string.h>

#include "demo/demo_internal.h"

const struct demo_person demo_persons[] = {
	{"85073003328", "Jan", "Peeters", "1985-07-30", "M", {"12090311839", NULL},
	 DEMO_EID_VALID, false},
	{"12090311839", "Lotte", "Peeters", "2012-09-03", "F", {NULL, NULL},
	 DEMO_EID_VALID, false},
	{"90031524651", "Marie", "Dubois", "1990-03-15", "F", {NULL, NULL},
	 DEMO_EID_VALID, false},
	{"01010100126", "Lucas", "Janssens", "2001-01-01", "M", {NULL, NULL},
	 DEMO_EID_VALID, false},
	{"78052216473", "Els", "Wouters", "1978-05-22", "F", {NULL, NULL},
	 DEMO_EID_VALID, false},
	{"83061814038", "Sara", "Vermeulen", "1983-06-18", "F", {NULL, NULL},
	 DEMO_EID_VALID, false},
	/* BIS register: persons without a national register number have no
	 * Belgian eID. */
	{"92510405775", "Ahmed", "Benali", "1992-11-04", "M", {NULL, NULL},
	 DEMO_EID_NONE, false},
	{"99240000511", "Noah", "Mbeki", "1999-04", "", {NULL, NULL},
	 DEMO_EID_NONE, false},
	/* A retired baker without a card reader: the register says he is a
	 * pensioner (demo_pensioners), so a flexi-job is open to him. */
	{"55021000192", "Georges", "Dubois", "1955-02-10", "M", {NULL, NULL},
	 DEMO_EID_NONE, false},
	/* A payroll clerk at the social secretariat, which the bakery is
	 * affiliated with: she declares the bakery's employments, logging in
	 * with her password and authenticator app. */
	{"86091420679", "Hanne", "Goossens", "1986-09-14", "F", {NULL, NULL},
	 DEMO_EID_NONE, false},
	/* A cross-border worker without an eID and without keys: she comes
	 * to the municipality's registration office for an activation code
	 * (demo.json names her under lra.waiting). */
	{"91441200214", "Olena", "Kovalenko", "1991-04-12", "F", {NULL, NULL},
	 DEMO_EID_NONE, true},
	/* Persons whose certificates must be refused. */
	{"80021409119", "Tom", "Claes", "1980-02-14", "M", {NULL, NULL},
	 DEMO_EID_REVOKED, false},
	{"95080921217", "Nina", "Maes", "1995-08-09", "F", {NULL, NULL},
	 DEMO_EID_EXPIRED, false},
	{"88120107779", "Pieter", "Jacobs", "1988-12-01", "M", {NULL, NULL},
	 DEMO_EID_FOREIGN, false},
};
const size_t demo_npersons = KP_NELEM(demo_persons);

const struct demo_org demo_orgs[] = {
	{"0412345614", "Bakkerij De Kroon BV", "employer"},
	{"1023456797", "Uitzendbureau Flex NV", "temp_agency"},
	{"0456789034", "Sociaal Secretariaat Demo VZW", "social_secretariat"},
	{"0207521107", "Gemeente Demoville", "municipality"},
	{"0411111140", "Ziekenfonds Demo", "institution"},
	{"0422222291", "Tweede Ziekenfonds Demo", "institution"},
	{"0722222210", "Kinderbijslagfonds Demo", "institution"},
	{"0212312313", "OCMW Demoville", "institution"},
	{"0333333372", "Rijksregister Demo", "institution"},
	{"0236600024", "Rijksdienst voor Sociale Zekerheid Demo", "institution"},
	{"0215111158", "Uitbetalingsinstelling Werkloosheid Demo", "institution"},
	{"0207111133", "Gemeente Tweestad", "municipality"},
	{"0812345603", "Recruit & Co BV", "recruitment_agency"},
	{"0444444496", "Supermarkt Demo NV", "employer"},
	{"0345678997", "Kruispuntbank van de Sociale Zekerheid Demo",
	 "institution"},
};
const size_t demo_norgs = KP_NELEM(demo_orgs);

const struct demo_institution demo_institutions[] = {
	{"0411111140", "health_insurance_fund", "health_insurance"},
	/* Same branch as the first fund: the anti-fraud rule applies. */
	{"0422222291", "health_insurance_fund", "health_insurance"},
	{"0722222210", "family_allowance_fund", "family_allowances"},
	{"0212312313", "public_social_welfare_centre", "social_assistance"},
	{"0333333372", "national_register", "identification"},
	/* The employment authority (declarations) and an unemployment
	 * payment institution. */
	{"0236600024", "social_security_office", "employment"},
	{"0215111158", "unemployment_payment_institution", "unemployment"},
	/* The BIS register's authority. */
	{"0345678997", "crossroads_bank", "identification"},
};
const size_t demo_ninstitutions = KP_NELEM(demo_institutions);

/* The bakery's own HR system consults its candidates' mandates on the
 * network with a certificate of its own: an organisation, no
 * institution. */
const char *const demo_network_orgs[] = {"0412345614"};
const size_t demo_nnetwork_orgs = KP_NELEM(demo_network_orgs);

const struct demo_capacity demo_capacities[] = {
	{"health_insurance", 1, "insured holder"},
	{"health_insurance", 2, "dependent person"},
	{"family_allowances", 1, "entitled child"},
	{"family_allowances", 2, "allowance recipient"},
	{"social_assistance", 1, "integration income beneficiary"},
};
const size_t demo_ncapacities = KP_NELEM(demo_capacities);

const struct demo_data_type demo_data_types[] = {
	{"identification", "national_register", "identification data"},
	{"health_insurance_rights", "health_insurance_fund",
	 "health insurance rights and affiliation"},
	{"family_allowance", "family_allowance_fund",
	 "family allowance entitlement"},
	{"integration_income", "public_social_welfare_centre",
	 "integration income"},
};
const size_t demo_ndata_types = KP_NELEM(demo_data_types);

const struct demo_dossier demo_dossiers[] = {
	{"0411111140", "85073003328", 1, 2, "2020-01-01"},
	{"0411111140", "12090311839", 2, 2, "2020-01-01"},
	{"0422222291", "90031524651", 1, 2, "2018-06-01"},
	{"0722222210", "12090311839", 1, 1, "2012-09-03"},
	{"0212312313", "92510405775", 1, 1, "2025-01-01"},
	/* Jan receives family allowances for Lotte; the welfare centre
	 * assesses his integration income (phase 2: it may consult them). */
	{"0722222210", "85073003328", 2, 2, "2024-01-01"},
	{"0212312313", "85073003328", 1, 2, "2025-06-01"},
};
const size_t demo_ndossiers = KP_NELEM(demo_dossiers);

/* Who holds which data, in which capacity. */
const struct demo_availability demo_availability[] = {
	{"national_register", 0, "identification"},
	{"health_insurance_fund", 1, "health_insurance_rights"},
	{"health_insurance_fund", 2, "health_insurance_rights"},
	{"family_allowance_fund", 1, "family_allowance"},
	{"family_allowance_fund", 2, "family_allowance"},
	{"public_social_welfare_centre", 1, "integration_income"},
};
const size_t demo_navailability = KP_NELEM(demo_availability);

/* Roles at organisations; valid for a year from the demo's start. */
const struct demo_role demo_roles[] = {
	{"78052216473", "0207521107", "lra_officer"},
	{"78052216473", "0207521107", "access_manager"},
	{"83061814038", "0412345614", "access_manager"},
	{"83061814038", "0412345614", "mandate_consult"},
	/* An auditor at the Crossroads Bank. */
	{"01010100126", "0345678997", "auditor"},
	{"86091420679", "0456789034", "employment_declarant"},
};
const size_t demo_nroles = KP_NELEM(demo_roles);

/* The bakery has the demo's social secretariat file its declarations. */
const struct demo_affiliation demo_affiliations[] = {
	{"0412345614", "0456789034"},
};
const size_t demo_naffiliations = KP_NELEM(demo_affiliations);

const struct demo_pensioner demo_pensioners[] = {
	{"55021000192", "2020-03-01"},
};
const size_t demo_npensioners = KP_NELEM(demo_pensioners);

/* Deliberations of the Information Security Committee (illustrative). */
const struct demo_authorization demo_authorizations[] = {
	{"IVC/KSZG/26/071", "health_insurance_fund", 1, "identification",
	 "health_insurance_rights", "2025-01-01", 1},
	{"IVC/KSZG/24/112", "family_allowance_fund", 1, "identification",
	 "family_allowance_entitlement", "2024-01-01", 1},
	{"IVC/KSZG/23/077", "public_social_welfare_centre", 1,
	 "family_allowance", "integration_income_assessment", "2023-07-01", 2},
};
const size_t demo_nauthorizations = KP_NELEM(demo_authorizations);

/* ---- generated families: two parents and two children each, at one
 * address, insured at one of the two health funds (the children as
 * dependents), the children entitled to family allowances. */

#define FAMILIES 10

static const char *family_names[FAMILIES] = {
	"Wouters", "De Smet", "Hermans", "Lemmens", "Michiels",
	"Vandenberghe", "Leroy", "Renard", "Simon", "Aerts"};
static const char *fathers[FAMILIES] = {"Tom", "Bart", "Koen", "Pieter",
					"Wim", "Stijn", "Pierre", "Marc",
					"Jean", "Dirk"};
static const char *mothers[FAMILIES] = {"Sofie", "Katrien", "An", "Els",
					"Leen", "Nathalie", "Julie", "Claire",
					"Isabelle", "Veerle"};
static const char *kids[2][FAMILIES] = {
	{"Lars", "Mats", "Finn", "Jules", "Vic", "Lou", "Hugo", "Tom", "Leo",
	 "Seppe"},
	{"Fien", "Nore", "Ella", "Mila", "Lina", "Zoe", "Alice", "Lea",
	 "Juliette", "Marthe"}};

static struct demo_person family_people[FAMILIES * 4];
static char family_insz[FAMILIES * 4][INSZ_BUF];
static char family_birth[FAMILIES * 4][DATE_LEN];
static struct demo_person all_people[sizeof(demo_persons) /
					 sizeof(demo_persons[0]) + FAMILIES * 4];
static struct demo_dossier family_dossier_list[FAMILIES * 7];
static size_t nall, nfamily_dossiers;

static void family_member(size_t k, const char *first, const char *last,
			  struct date born, int seq, bool male)
{
	date_format(born, family_birth[k]);
	insz_compose(INSZ_RR, born.y, born.m, born.d, true,
		     male ? seq * 2 + 1 : seq * 2 + 2, family_insz[k]);
	family_people[k] = (struct demo_person){
		family_insz[k], first, last, family_birth[k], male ? "M" : "F",
		{NULL, NULL}, DEMO_EID_NONE, false};
}

static void add_dossier(const char *kbo, const char *insz, int cap,
			const char *start)
{
	family_dossier_list[nfamily_dossiers++] =
		(struct demo_dossier){kbo, insz, cap, 2, start};
}

static void build_families(void)
{
	for (int f = 0; f < FAMILIES; f++) {
		size_t k = (size_t)f * 4;
		int seq = 100 + f; /* clear of the named persons' numbers */
		family_member(k, fathers[f], family_names[f],
			      (struct date){1970 + f, 1 + f % 12, 10}, seq, true);
		family_member(k + 1, mothers[f], family_names[f],
			      (struct date){1972 + f, 1 + (1 + f) % 12, 20}, seq, false);
		family_member(k + 2, kids[0][f], family_names[f],
			      (struct date){2008 + f % 5, 1 + (2 + f) % 12, 5}, seq, true);
		family_member(k + 3, kids[1][f], family_names[f],
			      (struct date){2010 + f % 6, 1 + (3 + f) % 12, 15}, seq, false);
		for (int parent = 0; parent < 2; parent++) {
			family_people[k + (size_t)parent].children[0] = family_insz[k + 2];
			family_people[k + (size_t)parent].children[1] = family_insz[k + 3];
		}
		const char *fund = f % 2 ? "0422222291" : "0411111140";
		add_dossier(fund, family_insz[k], 1, "2015-01-01");
		add_dossier(fund, family_insz[k + 1], 1, "2015-01-01");
		for (int c = 2; c < 4; c++) {
			add_dossier(fund, family_insz[k + (size_t)c], 2,
				    family_birth[k + (size_t)c]);
			add_dossier("0722222210", family_insz[k + (size_t)c], 1,
				    family_birth[k + (size_t)c]);
		}
	}
}

/* Built on first use; the demo is single-threaded until it serves. */
const struct demo_person *demo_all_persons(size_t *n)
{
	if (nall == 0) {
		build_families();
		for (size_t i = 0; i < demo_npersons; i++)
			all_people[nall++] = demo_persons[i];
		for (size_t i = 0; i < FAMILIES * 4; i++)
			all_people[nall++] = family_people[i];
	}
	*n = nall;
	return all_people;
}

const struct demo_dossier *demo_family_dossiers(size_t *n)
{
	size_t ignored;
	demo_all_persons(&ignored);
	*n = nfamily_dossiers;
	return family_dossier_list;
}

int demo_check_data(void)
{
	int bad = 0;
	size_t n;
	const struct demo_person *all = demo_all_persons(&n);
	for (size_t i = 0; i < n; i++) {
		bad += !insz_valid(all[i].insz);
		for (int c = 0; c < 2; c++)
			if (all[i].children[c])
				bad += !insz_valid(all[i].children[c]);
	}
	for (size_t i = 0; i < demo_norgs; i++)
		bad += !kbo_valid(demo_orgs[i].kbo);
	for (size_t i = 0; i < demo_ninstitutions; i++)
		bad += !kbo_valid(demo_institutions[i].kbo);
	/* A secretariat is one of the demo's social secretariats. */
	for (size_t i = 0; i < demo_naffiliations; i++)
		bad += strcmp(demo_org_by_kbo(demo_affiliations[i].secretariat)
				      ->category,
			      "social_secretariat") != 0;
	return bad;
}
