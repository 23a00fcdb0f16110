"""Padmé padding (Nikitin et al., PETS 2019).

At most ~12% overhead, and a padded size leaks only O(log log L) bits of the true size.
"""


def padme(length: int) -> int:
    """The padded size for a plaintext of ``length`` bytes."""
    if length < 2:
        return length
    exponent = length.bit_length() - 1
    mantissa_bits = exponent.bit_length()
    mask = (1 << (exponent - mantissa_bits)) - 1
    return (length + mask) & ~mask
