//! Check-digit algorithms that tell a real card or id number from a run of
//! digits of the same shape. Each takes the digits as values 0–9.

/// The Luhn (mod 10) check of payment card numbers: from the right, every
/// second digit is doubled (minus 9 when above 9), and the sum must be a
/// multiple of 10.
pub(crate) fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let twice = d * 2;
                if twice > 9 { twice - 9 } else { twice }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// The German tax id (Steuer-IdNr): 11 digits, the first not 0; in the
/// first ten, exactly one digit occurs two or three times (three times
/// never all adjacent) and no other repeats; the last is the ISO 7064
/// MOD 11,10 check digit of the first ten.
pub(crate) fn de_tax_id(digits: &[u8]) -> bool {
    let [body @ .., check] = digits else {
        return false;
    };
    if digits.len() != 11 || body[0] == 0 {
        return false;
    }
    let mut counts = [0u8; 10];
    for &d in body {
        counts[usize::from(d)] += 1;
    }
    let repeated: Vec<u8> = (0..10u8).filter(|&d| counts[usize::from(d)] > 1).collect();
    let [twice] = repeated[..] else {
        return false;
    };
    match counts[usize::from(twice)] {
        2 => {}
        3 if !body.windows(3).any(|w| w.iter().all(|&d| d == twice)) => {}
        _ => return false,
    }
    let mut product = 10u8;
    for &d in body {
        let mut sum = (d + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (2 * sum) % 11;
    }
    let expected = match 11 - product {
        10 => 0,
        c => c,
    };
    expected == *check
}

/// The Dutch BSN "elfproef": 9 digits weighted 9, 8, …, 2 and −1 sum to a
/// multiple of 11. All zeros is not a number anyone holds.
pub(crate) fn nl_bsn(digits: &[u8]) -> bool {
    if digits.len() != 9 || digits.iter().all(|&d| d == 0) {
        return false;
    }
    let weights = [9i32, 8, 7, 6, 5, 4, 3, 2, -1];
    let sum: i32 = digits
        .iter()
        .zip(weights)
        .map(|(&d, w)| i32::from(d) * w)
        .sum();
    sum % 11 == 0
}

/// The check letter of a Spanish DNI number (for an NIE, the number with
/// X, Y, Z read as 0, 1, 2 in front): the number modulo 23 indexes a fixed
/// table.
pub(crate) fn es_dni_letter(number: u32) -> char {
    const LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
    char::from(LETTERS[(number % 23) as usize])
}

/// The ASCII digits of `s` as values, skipping everything else.
pub(crate) fn digits_of(s: &str) -> Vec<u8> {
    s.bytes()
        .filter(u8::is_ascii_digit)
        .map(|b| b - b'0')
        .collect()
}
