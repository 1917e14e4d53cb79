// The registration officer's journeys in the portal (issue 16).
export async function journeysOfficer(browser) {
  void browser; // the journeys come with the pages
}
