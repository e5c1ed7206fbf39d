"""verify: prove from DNS, as a receiving server would, that an account may send."""
