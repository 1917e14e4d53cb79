// The organisation's journeys in the portal (issue 16).
export async function journeysOrg(browser) {
  void browser; // the journeys come with the pages
}
