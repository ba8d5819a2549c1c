"""`newinfra audit`: the live AWS account judged by the policy packs, and its drift from the last plan."""
