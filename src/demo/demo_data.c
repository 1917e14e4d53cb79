/*
 * The demo population. Every identifier is valid (mod 97, dates, sequence)
 * and the mix covers the rules: national register numbers of persons born
 * before and after 2000, BIS numbers with known and unknown sex, a parent
 * and a minor child. demo_check_data() proves it in the tests.
 */
#include <string.h>

#include "demo/demo_internal.h"

const struct demo_person demo_persons[] = {
	{"85073003328", "Jan", "Peeters", "1985-07-30", "M", "12090311839",
	 DEMO_EID_VALID},
	{"12090311839", "Lotte", "Peeters", "2012-09-03", "F", NULL,
	 DEMO_EID_VALID},
	{"90031524651", "Marie", "Dubois", "1990-03-15", "F", NULL,
	 DEMO_EID_VALID},
	{"01010100126", "Lucas", "Janssens", "2001-01-01", "M", NULL,
	 DEMO_EID_VALID},
	{"78052216473", "Els", "Wouters", "1978-05-22", "F", NULL,
	 DEMO_EID_VALID},
	{"83061814038", "Sara", "Vermeulen", "1983-06-18", "F", NULL,
	 DEMO_EID_VALID},
	/* BIS register: persons without a national register number have no
	 * Belgian eID. */
	{"92510405775", "Ahmed", "Benali", "1992-11-04", "M", NULL,
	 DEMO_EID_NONE},
	{"99240000511", "Noah", "Mbeki", "1999-04", "", NULL, DEMO_EID_NONE},
	/* Persons whose certificates must be refused. */
	{"80021409119", "Tom", "Claes", "1980-02-14", "M", NULL,
	 DEMO_EID_REVOKED},
	{"95080921217", "Nina", "Maes", "1995-08-09", "F", NULL,
	 DEMO_EID_EXPIRED},
	{"88120107779", "Pieter", "Jacobs", "1988-12-01", "M", NULL,
	 DEMO_EID_FOREIGN},
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
	/* The BIS register's authority. */
	{"0345678997", "crossroads_bank", "identification"},
};
const size_t demo_ninstitutions = KP_NELEM(demo_institutions);

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
};
const size_t demo_ndossiers = KP_NELEM(demo_dossiers);

/* Roles at organisations; valid for a year from the demo's start. */
const struct demo_role demo_roles[] = {
	{"78052216473", "0207521107", "lra_officer"},
	{"78052216473", "0207521107", "access_manager"},
	{"83061814038", "0412345614", "access_manager"},
	{"83061814038", "0412345614", "mandate_consult"},
};
const size_t demo_nroles = KP_NELEM(demo_roles);

/* Deliberations of the Information Security Committee (illustrative). */
const struct demo_authorization demo_authorizations[] = {
	{"IVC/KSZG/25/034", "health_insurance_fund", 1, "identification",
	 "health_insurance_rights", "2025-01-01", 1},
	{"IVC/KSZG/24/112", "family_allowance_fund", 1, "identification",
	 "family_allowance_entitlement", "2024-01-01", 1},
	{"IVC/KSZG/23/077", "public_social_welfare_centre", 1,
	 "family_allowance", "integration_income_assessment", "2023-07-01", 2},
};
const size_t demo_nauthorizations = KP_NELEM(demo_authorizations);

int demo_check_data(void)
{
	int bad = 0;
	for (size_t i = 0; i < demo_npersons; i++) {
		bad += !insz_valid(demo_persons[i].insz);
		if (demo_persons[i].child)
			bad += !insz_valid(demo_persons[i].child);
	}
	for (size_t i = 0; i < demo_norgs; i++)
		bad += !kbo_valid(demo_orgs[i].kbo);
	for (size_t i = 0; i < demo_ninstitutions; i++)
		bad += !kbo_valid(demo_institutions[i].kbo);
	return bad;
}
