namespace Retour.Core.Money;

public enum RefundStatus { Pending, Issued, Failed }

/// <summary>How the shopper is paid back: to the original payment, as store credit (a gift card), or as an exchange.</summary>
public enum RefundMethod { OriginalPayment, StoreCredit, Exchange }

/// <summary>What made Retour issue the refund.</summary>
public enum RefundTrigger { KeepIt, FirstScan, Delivery, Inspection, Manual }
