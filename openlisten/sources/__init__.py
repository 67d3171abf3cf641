"""Where audio bytes come from: request bodies read within a size cap and a minimum rate (`body_limit`),
and URLs fetched without reaching private addresses unless configured (`url`)."""
